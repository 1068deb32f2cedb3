// What the native build needs, how to tell whether it is here, and the command that installs it.
// Plain Node (no dependencies): used by setup.mjs, install.mjs and build-native.mjs before
// node_modules exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Debian packages: needed to build (`build`), to run (`run`), and for tests only (`test`). */
export const APT_PACKAGES = [
  { name: 'cmake', need: 'build', why: 'configures the native build' },
  { name: 'g++', need: 'build', why: 'compiles the native core' },
  { name: 'libtorch-dev', need: 'build', why: 'libtorch, the tensor library the core is built on' },
  { name: 'libfftw3-dev', need: 'build', why: 'FFTW, the FFT of the feature kernels' },
  { name: 'nlohmann-json3-dev', need: 'build', why: 'JSON for model configs in the native core' },
  { name: 'ffmpeg', need: 'run', why: 'decodes every audio format but WAV, and video' },
  { name: 'espeak-ng', need: 'run', why: 'phonemes of transcripts, for the transcript check' },
  { name: 'chromium', need: 'test', why: 'renders the HTML report in the tests (headless)' },
  { name: 'redis-server', need: 'test', why: 'the job queue of cluster runs (BullMQ), in the tests' },
];

export function commandExists(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function debPackageInstalled(name) {
  try {
    const out = execFileSync('dpkg-query', ['-W', '-f=${Status}', name], { stdio: ['ignore', 'pipe', 'ignore'] });
    return out.toString().includes('install ok installed');
  } catch {
    return false;
  }
}

const TORCH_CONFIG_DIRS = ['/usr/lib/x86_64-linux-gnu/cmake/Torch', '/usr/lib/aarch64-linux-gnu/cmake/Torch', '/usr/share/cmake/Torch'];

/** Where libtorch's CMake config is, or null. TORCH_DIR / Torch_DIR win. */
export function findTorch(env = process.env) {
  for (const key of ['TORCH_DIR', 'Torch_DIR']) {
    const dir = env[key];
    if (!dir) continue;
    for (const candidate of [dir, join(dir, 'Torch'), join(dir, 'share/cmake/Torch')]) {
      if (existsSync(join(candidate, 'TorchConfig.cmake'))) return { dir: candidate, from: key };
    }
    return { dir: null, from: key, bad: dir };
  }
  for (const dir of TORCH_CONFIG_DIRS) if (existsSync(join(dir, 'TorchConfig.cmake'))) return { dir, from: 'system' };
  return null;
}

/** The build prerequisites that are missing, each with the way to install it. */
export function missingBuildPrereqs(env = process.env) {
  const missing = [];
  if (!commandExists('cmake')) missing.push({ what: 'cmake', install: 'apt-get install -y cmake' });
  if (!commandExists('c++') && !commandExists('g++')) {
    missing.push({ what: 'a C++17 compiler (g++)', install: 'apt-get install -y g++' });
  }
  const torch = findTorch(env);
  if (!torch || !torch.dir) {
    missing.push({
      what: torch?.bad
        ? `libtorch: ${torch.from}=${torch.bad} holds no TorchConfig.cmake`
        : 'libtorch (its CMake package, TorchConfig.cmake)',
      install:
        'apt-get install -y libtorch-dev   (or TORCH_DIR=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)"))',
    });
  }
  if (!existsSync('/usr/include/fftw3.h') && !env.VOXQC_SKIP_FFTW_CHECK) {
    missing.push({ what: 'FFTW headers (fftw3.h)', install: 'apt-get install -y libfftw3-dev' });
  }
  if (!existsSync('/usr/include/nlohmann/json.hpp')) {
    missing.push({ what: 'nlohmann/json headers', install: 'apt-get install -y nlohmann-json3-dev' });
  }
  return missing;
}

export function formatMissing(missing) {
  const lines = ['voxqc: the native addon cannot be built; missing:'];
  for (const m of missing) lines.push(`  - ${m.what}\n      install: ${m.install}`);
  const apt = missing.map((m) => m.install.match(/^apt-get install -y (\S+)/)?.[1]).filter(Boolean);
  if (apt.length) lines.push(`All at once (as root):  apt-get update && apt-get install -y ${apt.join(' ')}`);
  return lines.join('\n');
}
