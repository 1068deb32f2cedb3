#!/usr/bin/env node
// npm's install step: use a prebuilt addon when one in prebuilds/ matches this platform and
// loads; otherwise compile from source (scripts/build-native.mjs), saying exactly what is missing
// when that cannot work.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

if (process.env.VOXQC_SKIP_INSTALL_BUILD) {
  console.log('voxqc: VOXQC_SKIP_INSTALL_BUILD is set; not building the native addon.');
  process.exit(0);
}

const prebuildDir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
if (existsSync(prebuildDir)) {
  for (const file of readdirSync(prebuildDir).filter((f) => f.endsWith('.node'))) {
    try {
      require(join(prebuildDir, file));
      console.log(`voxqc: using the prebuilt addon ${join('prebuilds', `${process.platform}-${process.arch}`, file)}`);
      process.exit(0);
    } catch (err) {
      console.log(`voxqc: the prebuilt ${file} does not load here (${String(err.message).split('\n')[0]}); compiling instead.`);
    }
  }
}

const res = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { stdio: 'inherit' });
process.exit(res.status ?? 1);
