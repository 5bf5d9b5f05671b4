// polkadot-api 2 opens its WebSocket through `globalThis.WebSocket`, which Node has without a
// flag from 22 on. On an older Node (this project's machines run 20), preloaded with
// `node --import ./ws-global.mjs`, it gives papi (the CLI and the test) the `ws` package's.
if (typeof globalThis.WebSocket === 'undefined') {
  const { WebSocket } = await import('ws');
  globalThis.WebSocket = WebSocket;
}
