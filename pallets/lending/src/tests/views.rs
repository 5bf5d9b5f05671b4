use super::*;

#[test]
fn market_info_and_positions() {
	ExtBuilder::default().build_and_execute(|| {
		alice_borrows();
		let info = Lending::market_info(&USD).unwrap();
		assert_eq!(info.total_supplied, 10_000);
		assert_eq!(info.total_borrowed, 5_000);
		assert_eq!(info.utilisation, fx(1, 2));
		assert_eq!(info.borrow_rate, fx(25, 1000));
		// 2.5% × 50% × 90%.
		assert_eq!(info.supply_rate, fx(1125, 100_000));
		assert_eq!(Lending::market_info(&NO_MARKET), None);
		assert_eq!(
			Lending::positions_info(&ALICE),
			Ok(vec![
				PositionInfo { asset: BTC, supplied: 100, collateral: true, borrowed: 0 },
				PositionInfo { asset: USD, supplied: 0, collateral: false, borrowed: 5_000 },
			])
		);
	})
}
