#!/usr/bin/env node
// Runs the native test executable (the core's tests, no Node inside) built by build-native.mjs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const exe = join(root, 'build', 'voxqc_native_tests');
if (!existsSync(exe)) {
  console.error(`voxqc: ${exe} is missing; build it with: npm run build:native`);
  process.exit(1);
}
console.log('native core tests (build/voxqc_native_tests)');
const res = spawnSync(exe, process.argv.slice(2), { stdio: 'inherit', cwd: root });
process.exit(res.status ?? 1);
