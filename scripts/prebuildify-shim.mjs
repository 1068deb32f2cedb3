#!/usr/bin/env node
// prebuildify has no cmake-js backend: it runs `<node-gyp> rebuild ...` and then takes
// build/Release/*.node. This shim stands in for node-gyp and builds with cmake-js instead.
// Usage (package.json "prebuild"): prebuildify --napi --strip --node-gyp scripts/prebuildify-shim.mjs
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const verb = process.argv[2];
if (verb !== 'rebuild' && verb !== 'build') {
  console.error(`prebuildify-shim: unsupported node-gyp verb '${verb}'`);
  process.exit(1);
}
const res = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs'), '--no-tests'], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(res.status ?? 1);
