// Generates the typed descriptors of the node at MARGINCALL_WS (default ws://127.0.0.1:9944)
// from its own metadata: `papi add margincall -w <url>` (the highest metadata version the
// runtime serves, v16 or v15, so runtime APIs are typed), then `papi generate`, into
// .papi/descriptors (the `@polkadot-api/descriptors` package that package.json links as
// `file:.papi/descriptors`). Starts from nothing each run. The config sets
// `noDescriptorsPackage`, so papi neither edits package.json nor runs `npm install` (which
// would rewrite package-lock.json): `npm ci` has already linked the folder.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

process.chdir(dirname(fileURLToPath(import.meta.url)));
const WS = process.env.MARGINCALL_WS ?? 'ws://127.0.0.1:9944';

rmSync('.papi', { recursive: true, force: true });
mkdirSync('.papi');
const config = {
  version: 0,
  descriptorPath: '.papi/descriptors',
  entries: {},
  options: { noDescriptorsPackage: true },
};
writeFileSync('.papi/polkadot-api.json', `${JSON.stringify(config, null, 2)}\n`);

const papi = (...args) =>
  execFileSync(process.execPath, ['--import', './ws-global.mjs', 'node_modules/.bin/papi', ...args], {
    stdio: 'inherit',
    timeout: 120_000,
  });
papi('add', 'margincall', '-w', WS, '--skip-codegen');
papi('generate');
