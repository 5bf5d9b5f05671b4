use super::*;

#[test]
fn one_year_matches_the_rate_model_to_the_unit() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Lending::supply(signed(BOB), USD, 1_000_000));
		assert_ok!(Lending::supply(signed(ALICE), BTC, 1_000));
		assert_ok!(Lending::borrow(signed(ALICE), USD, 50_000));
		advance(MILLIS_PER_YEAR as u64, true);
		// Utilisation 5%; rate 4% × 5/80 = 0.25%: 125 on 50,000; 10% → reserves (12.5
		// rounded down to 12), 113 to suppliers.
		assert_eq!(<Lending as LendingPositions<_>>::debt(&ALICE, &USD), Ok(50_125));
		assert_eq!(<Lending as LendingPositions<_>>::supplied(&BOB, &USD), Ok(1_000_113));
		assert_ok!(Lending::repay(signed(ALICE), USD, Amount::All));
		assert_ok!(Lending::withdraw(signed(BOB), USD, Amount::All));
		assert_eq!(balance(USD, ALICE), START + 50_000 - 50_125);
		assert_eq!(balance(USD, BOB), START + 113);
		// The floor (1) and the interest's share (12).
		assert_eq!(state(USD).reserves, 1 + 12);
		// What is left in the market is exactly the reserves.
		assert_eq!(balance(USD, pallet_account()), 13);
		let info = Lending::market_info(&USD).unwrap();
		assert_eq!((info.total_supplied, info.total_borrowed, info.reserves), (0, 0, 13));
	})
}

/// A reference implementation of the accrual, written independently of `math.rs`, in
/// plain integers at 18 decimals.
struct Reference {
	borrow_index: u128,
	supply_index: u128,
	scaled_supply: u128,
	scaled_borrow: u128,
	reserves: u128,
}
const E18: u128 = 1_000_000_000_000_000_000;
fn div_ceil(a: u128, b: u128) -> u128 {
	a / b + u128::from(!a.is_multiple_of(b))
}
impl Reference {
	fn accrue(&mut self, dt: u128) {
		let borrows = div_ceil(self.scaled_borrow * self.borrow_index, E18);
		let supplies = self.scaled_supply * self.supply_index / E18;
		// Compound's utilisation: borrows over supplies (reserves are not supply).
		let u = (borrows * E18 / supplies).min(E18);
		// USD model: 0 + 4% × u / 80% (u below the kink in this test), rounded up.
		let rate = div_ceil(4 * E18 / 100 * div_ceil(u * E18, 80 * E18 / 100), E18);
		let growth = div_ceil(rate * dt, MILLIS_PER_YEAR);
		self.borrow_index = div_ceil(self.borrow_index * (E18 + growth), E18);
		let interest = (self.scaled_borrow * self.borrow_index / E18).saturating_sub(borrows);
		let to_reserves = interest / 10;
		self.reserves += to_reserves;
		self.supply_index += (interest - to_reserves) * E18 / self.scaled_supply;
	}
}

#[test]
fn a_year_of_blocks_touched_every_hour_matches_the_reference() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Lending::supply(signed(BOB), USD, 100_000_000));
		assert_ok!(Lending::supply(signed(ALICE), BTC, 1_000_000));
		assert_ok!(Lending::borrow(signed(ALICE), USD, 60_000_000));
		let mut r = Reference {
			borrow_index: E18,
			supply_index: E18,
			scaled_supply: 100_000_000,
			scaled_borrow: 60_000_000,
			// The floor GOV paid.
			reserves: 1,
		};
		let hour = 3_600_000u64;
		let mut last_borrow_index = state(USD).borrow_index;
		let mut last_supply_index = state(USD).supply_index;
		// 8,760 hours of 600 blocks each: a year of 6-second blocks.
		for _ in 0..8_760 {
			advance(hour, true);
			assert_ok!(Lending::accrue(&USD));
			r.accrue(hour as u128);
			let s = state(USD);
			assert!(s.borrow_index >= last_borrow_index && s.supply_index >= last_supply_index);
			last_borrow_index = s.borrow_index;
			last_supply_index = s.supply_index;
		}
		let s = state(USD);
		assert_eq!(s.borrow_index.into_inner(), r.borrow_index);
		assert_eq!(s.supply_index.into_inner(), r.supply_index);
		assert_eq!(s.reserves, r.reserves);
		// Hourly compounding of ~2.4%/yr (60% utilisation: 4% × 60/80 = 3%, falling as
		// supplies grow) stays within a few basis points of continuous compounding.
		let debt = <Lending as LendingPositions<_>>::debt(&ALICE, &USD).unwrap();
		assert!(debt > 61_700_000 && debt < 62_000_000, "debt after a year: {debt}");
	})
}
