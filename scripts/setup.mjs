#!/usr/bin/env node
// The set-up behind `npm start` and `npm test`: installs what is missing and builds what is out
// of date, saying what it does; does nothing (and says so) when everything is in place.
//   1. Debian packages (apt-get when root or with password-less sudo; otherwise prints the command)
//   2. npm dependencies (npm ci)
//   3. the native addon and native tests (cmake-js; incremental)
//   4. the TypeScript build (tsc)
// Usage: node scripts/setup.mjs [--quiet] [--for-tests]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APT_PACKAGES, debPackageInstalled, commandExists, formatMissing, missingBuildPrereqs } from './prereqs.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
// Test-only Debian packages (a browser for the report test) are installed for `npm test` only.
const forTests = process.argv.includes('--for-tests');
const say = (msg) => {
  if (!quiet) console.log(`voxqc setup: ${msg}`);
};

function run(cmd, args, opts = {}) {
  say(`$ ${[cmd, ...args].join(' ')}`);
  const res = spawnSync(cmd, args, { cwd: root, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit', ...opts });
  if (res.status !== 0) {
    console.error(`voxqc setup: '${[cmd, ...args].join(' ')}' failed (exit ${res.status ?? res.signal}).`);
    process.exit(res.status || 1);
  }
}

/** Newest modification time of the files under `paths` (recursively), or 0. */
function newest(paths) {
  let t = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p)) visit(join(p, e));
    else t = Math.max(t, st.mtimeMs);
  };
  paths.forEach((p) => visit(join(root, p)));
  return t;
}

const mtime = (p) => (existsSync(join(root, p)) ? statSync(join(root, p)).mtimeMs : 0);

// 1. Debian packages
if (commandExists('dpkg-query')) {
  const wanted = APT_PACKAGES.filter((p) => p.need !== 'test' || forTests);
  const missing = wanted.filter((p) => !debPackageInstalled(p.name));
  if (missing.length === 0) {
    say(`Debian packages: all ${wanted.length} present`);
  } else {
    const names = missing.map((p) => p.name);
    const why = missing.map((p) => `  ${p.name}: ${p.why}`).join('\n');
    const isRoot = process.getuid?.() === 0;
    const canSudo = !isRoot && commandExists('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
    if (isRoot || canSudo) {
      say(`installing missing Debian packages:\n${why}`);
      const pre = isRoot ? [] : ['sudo'];
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      run(pre[0] ?? 'apt-get', [...pre.slice(1), ...(isRoot ? [] : ['apt-get']), 'update', '-qq'], { env });
      run(pre[0] ?? 'apt-get', [...pre.slice(1), ...(isRoot ? [] : ['apt-get']), 'install', '-y', '-qq', ...names], { env });
    } else {
      console.error(`voxqc setup: these Debian packages are missing:\n${why}\nInstall them as root, then run this again:\n  sudo apt-get update && sudo apt-get install -y ${names.join(' ')}`);
      process.exit(1);
    }
  }
} else {
  const missing = missingBuildPrereqs();
  if (!commandExists('ffmpeg')) missing.push({ what: 'ffmpeg', install: 'install ffmpeg with your package manager' });
  if (missing.length) {
    console.error(formatMissing(missing));
    process.exit(1);
  }
  say('not a Debian system; the build prerequisites were found');
}

// 2. npm dependencies
const lockStamp = join('node_modules', '.package-lock.json');
if (!existsSync(join(root, lockStamp)) || mtime('package-lock.json') > mtime(lockStamp) || mtime('package.json') > mtime(lockStamp)) {
  say('installing npm dependencies (npm ci; this also builds the native addon)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
} else {
  say('npm dependencies: up to date');
}

// 3. native addon + native tests
const addon = join('build', 'Release', 'voxqc.node');
const nativeTests = join('build', 'voxqc_native_tests');
const nativeSources = newest(['cpp', 'binding', 'CMakeLists.txt']);
if (!existsSync(join(root, addon)) || !existsSync(join(root, nativeTests)) || nativeSources > Math.min(mtime(addon), mtime(nativeTests))) {
  say('building the native addon (incremental)');
  run(process.execPath, [join('scripts', 'build-native.mjs')]);
} else {
  say('native addon: up to date');
}

// 4. TypeScript
if (!existsSync(join(root, 'dist', 'lib', 'index.js')) || newest(['lib', 'tsconfig.json']) > newest(['dist/lib'])) {
  say('compiling TypeScript');
  run(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
} else {
  say('TypeScript build: up to date');
}
say('ready');
