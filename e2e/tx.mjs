// Transaction helpers shared by the end-to-end checks (keeper.mjs, fault.mjs).

/** A dispatch error by name (`section.Name`), or its text when it is not a module's. */
export function errorText(api, dispatchError) {
  return dispatchError.isModule
    ? (({ section, name }) => `${section}.${name}`)(api.registry.findMetaError(dispatchError.asModule))
    : dispatchError.toString();
}

/**
 * Signs and sends `tx` (with `options` for `signAndSend`, e.g. `{ nonce: -1 }`), resolving once
 * its block is in the best chain with the extrinsic's events, its block and whether it failed
 * (`error`: a failed dispatch rejects by name, unless `allowFailure`).
 */
export function sendInBlock(api, tx, signer, { allowFailure = false, options = {} } = {}) {
  return new Promise((resolve, reject) => {
    let unsub;
    let done = false;
    tx.signAndSend(signer, options, ({ status, events, dispatchError }) => {
      if (done) return;
      if (status.isInvalid || status.isDropped || status.isUsurped) {
        done = true;
        reject(new Error(`transaction ${status.type}`));
      } else if (status.isInBlock) {
        done = true;
        if (unsub) unsub();
        const error = dispatchError ? errorText(api, dispatchError) : null;
        if (error && !allowFailure) reject(new Error(`dispatch failed: ${error}`));
        else resolve({ events: events.map((r) => r.event), block: status.asInBlock, error });
      }
    }).then((u) => {
      unsub = u;
      if (done) u();
    }, reject);
  });
}
