// End-to-end smoke test of a running margincall node through @polkadot/api:
// connect, read metadata, submit a signed transfer and a DEX swap, and see their events in
// finalized blocks. Exits non-zero on the first failed check. Bounded: 180 s in all.
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';

const WS = process.env.MARGINCALL_WS ?? 'ws://127.0.0.1:9944';
const UNIT = 10n ** 12n;
const USDM = 1;
const XBTC = 2;

let passed = 0;
let failed = 0;
function check(cond, what) {
  if (cond) {
    passed += 1;
    console.log(`ok - ${what}`);
  } else {
    failed += 1;
    console.log(`not ok - ${what}`);
  }
}

const deadline = setTimeout(() => {
  console.log('not ok - e2e timed out after 180 s');
  process.exit(1);
}, 180_000);

/** Signs and sends `tx`, resolving with the events of the extrinsic once its block is finalized. */
function sendFinalized(api, tx, signer) {
  return new Promise((resolve, reject) => {
    let unsub;
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (status.isInvalid || status.isDropped || status.isUsurped) {
        reject(new Error(`transaction ${status.type}`));
      }
      if (status.isFinalized) {
        if (unsub) unsub();
        if (dispatchError) {
          const msg = dispatchError.isModule
            ? JSON.stringify(api.registry.findMetaError(dispatchError.asModule))
            : dispatchError.toString();
          reject(new Error(`dispatch failed: ${msg}`));
        }
        resolve({ events: events.map((r) => r.event), block: status.asFinalized });
      }
    }).then((u) => { unsub = u; }, reject);
  });
}

async function main() {
  const api = await ApiPromise.create({ provider: new WsProvider(WS), noInitWarn: true });
  const chain = await api.rpc.system.chain();
  const version = api.runtimeVersion;
  console.log(`connected to ${chain}, runtime ${version.specName} v${version.specVersion.toString()}`);

  // Metadata.
  const metadata = await api.rpc.state.getMetadata();
  check(metadata.version >= 14, `metadata v${metadata.version}`);
  const pallets = metadata.asLatest.pallets.map((p) => p.name.toString());
  for (const p of ['Balances', 'Assets', 'AssetConversion', 'Oracle', 'OracleMembership', 'Referenda']) {
    check(pallets.includes(p), `metadata lists pallet ${p}`);
  }
  check(api.tx.assetConversion?.swapExactTokensForTokens !== undefined, 'swap call in metadata');

  const keyring = new Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  const bob = keyring.addFromUri('//Bob');

  // A signed transfer, seen in a finalized block.
  const amount = 1_234n * UNIT;
  const bobBefore = (await api.query.system.account(bob.address)).data.free.toBigInt();
  const transfer = await sendFinalized(api, api.tx.balances.transferKeepAlive(bob.address, amount), alice);
  const transferEvent = transfer.events.find((e) => api.events.balances.Transfer.is(e));
  check(transferEvent !== undefined, `Transfer event in finalized block ${transfer.block.toHex()}`);
  check(
    transferEvent && transferEvent.data[0].toString() === alice.address &&
      transferEvent.data[1].toString() === bob.address &&
      transferEvent.data[2].toBigInt() === amount,
    'Transfer event has sender, receiver and amount',
  );
  const bobAfter = (await api.query.system.account(bob.address)).data.free.toBigInt();
  check(bobAfter - bobBefore === amount, 'Bob received exactly the amount');

  // A DEX swap, paying exactly the runtime's quote.
  const usdm = { WithId: USDM };
  const xbtc = { WithId: XBTC };
  const amountIn = 6_000n * UNIT;
  const quote = await api.call.assetConversionApi.quotePriceExactTokensForTokens(usdm, xbtc, amountIn, true);
  check(quote.isSome && quote.unwrap().toBigInt() > 0n, `quote for 6,000 USDM: ${quote.toString()}`);
  const expected = quote.unwrap().toBigInt();
  const xbtcBefore = (await api.query.assets.account(XBTC, bob.address)).unwrap().balance.toBigInt();
  const swap = await sendFinalized(
    api,
    api.tx.assetConversion.swapExactTokensForTokens([usdm, xbtc], amountIn, expected, bob.address, false),
    bob,
  );
  const swapEvent = swap.events.find((e) => api.events.assetConversion.SwapExecuted.is(e));
  check(swapEvent !== undefined, `SwapExecuted event in finalized block ${swap.block.toHex()}`);
  check(
    swapEvent && swapEvent.data.amountIn.toBigInt() === amountIn && swapEvent.data.amountOut.toBigInt() === expected,
    'swap paid exactly the quoted amount',
  );
  const xbtcAfter = (await api.query.assets.account(XBTC, bob.address)).unwrap().balance.toBigInt();
  check(xbtcAfter - xbtcBefore === expected, 'Bob received the quoted XBTC');

  await api.disconnect();
}

main()
  .catch((e) => {
    failed += 1;
    console.log(`not ok - ${e.message ?? e}`);
  })
  .finally(() => {
    clearTimeout(deadline);
    console.log(`e2e: ${passed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
  });
