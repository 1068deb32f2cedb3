#!/usr/bin/env node
// npm run fuzz [-- --cases N] [--seed S] [--native-only|--ts-only] [--libfuzzer SECONDS]
// The fuzz campaign: every native target (cpp/fuzz, plain-C++ driver voxqc_fuzz) and every
// TypeScript-side target (bench/fuzz, fast-check), N cases each (default 10,000), seeded. Prints
// the counts per target; exits 1 on any crash, hang or ending other than a result or a VoxqcError.
// Failing inputs land in fuzz-crashes/ (keep them as regression fixtures in test/fixtures/fuzz/).
// --libfuzzer S also builds the libFuzzer targets with clang + ASan + UBSan (build-fuzz/, needs
// clang-14 and libclang-rt-14-dev) and runs each for S seconds from the driver's seed inputs.
// Not part of npm test: CI runs a seeded slice (native test fuzz_slice_*, test/30.hardening).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    'native-only': { type: 'boolean', default: false },
    'ts-only': { type: 'boolean', default: false },
    libfuzzer: { type: 'string' },
  },
});
const buildDir = join(root, process.env.VOXQC_BUILD_DIR || 'build');
const crashDir = join(root, 'fuzz-crashes');
mkdirSync(crashDir, { recursive: true });
const env = { ...process.env };
if (!env.VOXQC_NATIVE_PATH && process.env.VOXQC_BUILD_DIR) env.VOXQC_NATIVE_PATH = join(buildDir, 'Release', 'voxqc.node');
let failed = false;
const t0 = Date.now();

if (!values['ts-only']) {
  const driver = join(buildDir, 'voxqc_fuzz');
  if (!existsSync(driver)) {
    console.log(`voxqc fuzz: ${driver} is missing; building…`);
    const b = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { stdio: 'inherit', env });
    if (b.status !== 0) process.exit(1);
  }
  console.log(`native targets (${driver}, ${values.cases} cases each, seed ${values.seed}):`);
  const r = spawnSync(driver, ['--cases', values.cases, '--seed', values.seed, '--crash-dir', crashDir, '--timeout-ms', '30000'], {
    stdio: 'inherit',
    cwd: root,
  });
  if (r.status !== 0) {
    failed = true;
    console.log(`voxqc fuzz: the native driver ended with ${r.signal ?? `status ${r.status}`}; inputs in ${crashDir}`);
  }
}

if (!values['native-only']) {
  console.log(`TypeScript targets (fast-check, ${values.cases} cases each, seed ${values.seed}):`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'fuzz', 'run.ts'), '--cases', values.cases, '--seed', values.seed, '--crash-dir', crashDir], {
    stdio: 'inherit',
    cwd: root,
    env,
  });
  if (r.status !== 0) failed = true;
}

if (values.libfuzzer) {
  const fuzzDir = join(root, 'build-fuzz');
  const cfg = spawnSync('cmake', ['-S', root, '-B', fuzzDir, '-G', 'Ninja', '-DCMAKE_BUILD_TYPE=RelWithDebInfo', '-DCMAKE_CXX_COMPILER=clang++-14', '-DVOXQC_FUZZ=ON', '-DVOXQC_BUILD_TESTS=OFF'], { stdio: 'inherit' });
  const jobs = process.env.VOXQC_BUILD_JOBS || '2';
  const bld = cfg.status === 0 ? spawnSync('cmake', ['--build', fuzzDir, '-j', jobs], { stdio: 'inherit' }) : cfg;
  if (bld.status !== 0) {
    console.log('voxqc fuzz: the libFuzzer build failed (needs clang-14, libclang-rt-14-dev and libomp-14-dev)');
    process.exit(1);
  }
  const seeds = join(fuzzDir, 'seeds');
  spawnSync(join(fuzzDir, 'voxqc_fuzz'), ['--cases', '200', '--write-seeds', seeds, '--crash-dir', crashDir], { stdio: 'ignore' });
  for (const name of ['wav', 'wav_info', 'resample', 'features', 'metrics', 'simulate']) {
    const corpus = join(fuzzDir, 'corpus', name);
    mkdirSync(corpus, { recursive: true });
    console.log(`libFuzzer ${name}: ${values.libfuzzer} s`);
    const r = spawnSync(join(fuzzDir, `voxqc_fuzz_${name}`), [corpus, join(seeds, name), `-max_total_time=${values.libfuzzer}`, '-timeout=30', '-rss_limit_mb=4096', `-artifact_prefix=${crashDir}/${name}-`, '-print_final_stats=1'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1', UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1' },
    });
    if (r.status !== 0) failed = true;
  }
}

console.log(`voxqc fuzz: ${failed ? 'FAILED: see above; inputs in ' + crashDir : '0 crashes, 0 hangs, every case a result or a VoxqcError'} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
process.exit(failed ? 1 : 0);
