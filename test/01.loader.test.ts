// Layer 1: the native module loader and its messages.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNative, packageRoot } from '../lib/native/loader.js';
import { runtimeInfo, VoxqcError } from '../lib/index.js';
import { repoRoot, tempDir } from './helpers/index.js';

describe('01 native loader', () => {
  it('finds the package root and loads the built addon', async () => {
    assert.equal(packageRoot(), repoRoot);
    const info = await runtimeInfo();
    assert.match(info.torchVersion, /^\d+\.\d+\.\d+$/);
    assert.ok(info.hardwareThreads >= 1);
    assert.equal(info.cudaCompiled, false, 'this build has no CUDA (Debian libtorch)');
  });

  it('explains an absent native file: where it looked and how to build', () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'package.json'), JSON.stringify({ name: 'voxqc' }));
      assert.throws(
        () => loadNative(t.dir),
        (err: unknown) => {
          assert.ok(err instanceof VoxqcError);
          assert.equal(err.code, 'ERR_NATIVE_LOAD');
          assert.match(err.message, new RegExp(`no build found under ${t.dir}`));
          assert.match(err.message, /build[/\\]Release/);
          assert.match(err.message, /npm run build:native/);
          assert.match(err.message, /apt-get install -y .*libtorch-dev/);
          return true;
        },
      );
    } finally {
      t.cleanup();
    }
  });

  it('explains a native file that does not load: which file, which error, what to do', () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'package.json'), JSON.stringify({ name: 'voxqc' }));
      mkdirSync(join(t.dir, 'build', 'Release'), { recursive: true });
      const bad = join(t.dir, 'build', 'Release', 'voxqc.node');
      writeFileSync(bad, 'this is not a shared object');
      assert.throws(
        () => loadNative(t.dir),
        (err: unknown) => {
          assert.ok(err instanceof VoxqcError);
          assert.equal(err.code, 'ERR_NATIVE_LOAD');
          assert.equal(err.file, bad);
          assert.ok(err.message.includes(bad));
          assert.match(err.message, /invalid ELF header|too short/);
          assert.match(err.message, /npm run build:native/);
          return true;
        },
      );
    } finally {
      t.cleanup();
    }
  });
});

describe('01 package entry point', () => {
  it("import 'voxqc' resolves to the compiled package and exposes only the public API", async () => {
    const api = await import('voxqc');
    assert.deepEqual(Object.keys(api).sort(), [
      'DEFAULT_KEYS',
      'DEFAULT_THRESHOLDS',
      'Grader',
      'VERSION',
      'VoxqcError',
      'analyze',
      'applyRubric',
      'avOffset',
      'collect',
      'combineGrades',
      'compileWhere',
      'configure',
      'createWorker',
      'defaultModelDir',
      'defaultRunName',
      'describeAudio',
      'describeFiles',
      'fbank',
      'fbankBatch',
      'filterGraded',
      'getConfig',
      'gradeClip',
      'gradeManifest',
      'kaldiMfcc',
      'kaldiMfccBatch',
      'listRuns',
      'loadAudio',
      'loadGraderModule',
      'loadThresholds',
      'melSpectrogram',
      'melSpectrogramBatch',
      'mfcc',
      'mfccBatch',
      'prepareTrainingData',
      'queueStatus',
      'readManifest',
      'removeRun',
      'resample',
      'resolveThresholds',
      'runtimeInfo',
      'spectrogram',
      'spectrogramBatch',
      'submit',
      'train',
      'vad',
      'writeReport',
    ]);
    const pkg = await import('voxqc/package.json', { with: { type: 'json' } });
    assert.equal(pkg.default.name, 'voxqc');
    await assert.rejects(import('voxqc/dist/lib/native/loader.js' as string), /not defined by "exports"|ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });
});

describe('01 build prerequisites and threads', () => {
  it('the native build says exactly what is missing and the command that installs it', async () => {
    const { spawnSync } = await import('node:child_process');
    const res = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build-native.mjs')], {
      env: { ...process.env, TORCH_DIR: '/nonexistent/libtorch' },
      encoding: 'utf8',
    });
    assert.equal(res.status, 1);
    assert.match(res.stderr, /missing:/);
    assert.match(res.stderr, /libtorch: TORCH_DIR=\/nonexistent\/libtorch holds no TorchConfig\.cmake/);
    assert.match(res.stderr, /install: apt-get install -y libtorch-dev/);
  });

  it('the thread count reaches libtorch on the worker thread', async () => {
    const { native } = await import('../lib/native/loader.js');
    assert.equal((await native().runtimeInfo(2)).intraOpThreads, 2);
    assert.equal((await native().runtimeInfo(1)).intraOpThreads, 1);
  });
});
