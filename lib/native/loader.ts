// Finds and loads the native addon, and when that fails, says which file, which error and what
// to do (in the manner of sharp's loader).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VoxqcError } from '../errors.js';
import { EXPECTED_ABI_VERSION, type NativeAddon } from './addon.js';

const require = createRequire(import.meta.url);

/** The package root: the nearest directory up from this file whose package.json is voxqc's. */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'voxqc') return dir;
      } catch {
        /* keep looking */
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('voxqc: cannot find the package root from ' + from);
    dir = parent;
  }
}

function advice(message: string): string[] {
  if (/libtorch[^\s]*\.so[^:]*: cannot open shared object file/.test(message) || /libc10\.so/.test(message)) {
    return [
      'libtorch, which the addon links, is not installed (or not where it was at build time).',
      'Install it:  apt-get install -y libtorch-dev',
      'or rebuild against another libtorch:  TORCH_DIR=/path/to/libtorch npm run build:native',
    ];
  }
  if (/cannot open shared object file/.test(message)) {
    return ['A shared library the addon needs is missing; install it, or rebuild:  npm run build:native'];
  }
  if (/undefined symbol|version `[^']+' not found/.test(message)) {
    return [
      'The addon was built against a different libtorch (or C++ runtime) than the one found now.',
      'Rebuild it:  npm run build:native',
    ];
  }
  if (/invalid ELF header|wrong ELF class|exec format error/i.test(message)) {
    return ['The addon was built for another platform or architecture. Rebuild it:  npm run build:native'];
  }
  if (/No native build was found/.test(message)) {
    return [
      'The native addon has not been built.',
      'Build it:  npm run build:native   (needs cmake, g++ and libtorch-dev: apt-get install -y cmake g++ libtorch-dev libfftw3-dev nlohmann-json3-dev)',
      'or run `npm start`, which installs what is missing and builds everything.',
    ];
  }
  return ['Rebuild the addon:  npm run build:native   (npm start does every set-up step)'];
}

/**
 * Loads the addon found under `root` (build/Release, then prebuilds/<platform>-<arch>, as
 * node-gyp-build resolves them) or at $VOXQC_NATIVE_PATH. Throws a VoxqcError with code
 * ERR_NATIVE_LOAD that names the file, the error and the fix.
 */
export function loadNative(root = packageRoot()): NativeAddon {
  let file: string | undefined = process.env.VOXQC_NATIVE_PATH;
  try {
    if (!file) {
      const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
      file = nodeGypBuild.path(root);
    }
  } catch (err) {
    const message = (err as Error).message;
    throw new VoxqcError(
      'ERR_NATIVE_LOAD',
      [
        `Could not load the voxqc native addon: no build found under ${root}`,
        `(looked in ${join(root, 'build', 'Release')} and ${join(root, 'prebuilds', `${process.platform}-${process.arch}`)}).`,
        ...advice(message),
      ].join('\n'),
      { cause: err },
    );
  }
  let addon: NativeAddon;
  try {
    addon = require(file) as NativeAddon;
  } catch (err) {
    const message = String((err as Error).message);
    throw new VoxqcError(
      'ERR_NATIVE_LOAD',
      [`Could not load the voxqc native addon ${file}:`, `  ${message.split('\n')[0]}`, ...advice(message)].join('\n'),
      { file, cause: err },
    );
  }
  if (addon.abiVersion !== EXPECTED_ABI_VERSION) {
    throw new VoxqcError(
      'ERR_NATIVE_LOAD',
      `The voxqc native addon ${file} is out of date (ABI ${addon.abiVersion}, this package expects ${EXPECTED_ABI_VERSION}).\nRebuild it:  npm run build:native`,
      { file },
    );
  }
  return addon;
}

let cached: NativeAddon | undefined;

/** The process's addon, loaded on first use. */
export function native(): NativeAddon {
  cached ??= loadNative();
  return cached;
}
