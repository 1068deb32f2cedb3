#!/usr/bin/env node
// Builds the native addon (build/Release/voxqc.node) and the native test executable with cmake-js.
// Usage: node scripts/build-native.mjs [--debug] [--sanitize] [--no-tests]
// Environment: TORCH_DIR / Torch_DIR (another libtorch, e.g. PyTorch's with CUDA),
//              VOXQC_BUILD_JOBS (parallel compile jobs; default: number of cores),
//              VOXQC_BUILD_DIR (build directory; default build/, where the loader looks; another
//              one is loaded with VOXQC_NATIVE_PATH=<dir>/Release/voxqc.node).
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { formatMissing, missingBuildPrereqs } from './prereqs.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

const missing = missingBuildPrereqs();
if (missing.length) {
  console.error(formatMissing(missing));
  process.exit(1);
}

let cmakeJs;
try {
  cmakeJs = createRequire(join(root, 'package.json')).resolve('cmake-js/bin/cmake-js');
} catch {
  console.error('voxqc: cmake-js is not installed; run `npm install` in ' + root + ' first.');
  process.exit(1);
}

const defines = [`--CDVOXQC_BUILD_TESTS=${args.includes('--no-tests') ? 'OFF' : 'ON'}`];
if (args.includes('--sanitize')) defines.push('--CDVOXQC_SANITIZE=ON');
const torchDir = process.env.TORCH_DIR || process.env.Torch_DIR;
if (torchDir) defines.push(`--CDTORCH_DIR=${torchDir}`);
const cmd = [cmakeJs, 'compile', '--out', process.env.VOXQC_BUILD_DIR || 'build', ...(args.includes('--debug') ? ['--debug'] : []), ...defines];
const jobs = process.env.VOXQC_BUILD_JOBS || String(availableParallelism());
console.log(`voxqc: building the native addon (cmake-js, ${jobs} jobs)…`);
const res = spawnSync(process.execPath, cmd, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: jobs },
});
if (res.status !== 0) {
  console.error('voxqc: the native build failed (see the compiler output above).');
  process.exit(res.status ?? 1);
}
