// Layer 7: the voxqc command line, run as a real child process from the compiled package.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, samplesDir, tempDir } from './helpers/index.js';

const cli = join(repoRoot, 'dist', 'lib', 'cli.js');
function voxqc(args: string[], cwd = repoRoot) {
  const res = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' });
  return { code: res.status, out: res.stdout, err: res.stderr };
}

describe('07 command line', () => {
  before(function () {
    if (!existsSync(cli)) throw new Error(`${cli} missing: run npm run build:ts`);
  });

  it('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    const r = voxqc(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.out.trim(), pkg.version);
  });

  it('--help lists the commands', () => {
    const r = voxqc(['--help']);
    assert.equal(r.code, 0);
    for (const cmd of ['demo', 'describe', 'grade', 'filter', 'report', 'simulate', 'train', 'queue']) {
      assert.match(r.out, new RegExp(`^  ${cmd}\\b`, 'm'));
    }
  });

  it('demo grades the bundled clips, writes the graded manifest and the report, and says where', () => {
    const t = tempDir();
    try {
      const r = voxqc(['demo'], t.dir);
      assert.equal(r.code, 0, r.err);
      const out = join(t.dir, 'voxqc-out', 'samples.graded.jsonl');
      assert.match(r.out, new RegExp(`results: ${out}`));
      assert.ok(existsSync(join(t.dir, 'voxqc-out', 'report.html')));
      const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(rows.length, 5);
      for (const row of rows) {
        assert.ok(['high', 'medium', 'low'].includes(row.voxqc.grade), JSON.stringify(row.voxqc));
        // The shipped policy ('coherent'): a high clip carries no flag against it.
        if (row.voxqc.grade === 'high') assert.deepEqual(row.voxqc.flags, [], JSON.stringify(row.voxqc));
      }
      // The studio LJSpeech clip is clean; the whispered Thorsten take is quieter than -45 dBFS.
      assert.equal(rows.find((x) => x.audio_filepath.startsWith('ljspeech')).voxqc.grade, 'high');
      assert.ok(rows.find((x) => x.audio_filepath.includes('whisper')).voxqc.flags.includes('too_quiet'));
    } finally {
      t.cleanup();
    }
  });

  it('describe --json writes one JSON line per clip, and an error line for a bad one (exit 1)', () => {
    const t = tempDir();
    try {
      const bad = join(t.dir, 'bad.wav');
      writeFileSync(bad, 'not audio');
      const r = voxqc(['describe', '--json', join(samplesDir, 'speechcommands_zero_3d794813.wav'), bad]);
      assert.equal(r.code, 1);
      const rows = r.out.trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(rows.length, 2);
      const err = rows.find((x) => x.error);
      assert.equal(err.error.code, 'ERR_DECODE');
      assert.ok(rows.some((x) => x.durationSec === 1));
    } finally {
      t.cleanup();
    }
  });

  it('bad usage exits 2 with a message', () => {
    assert.equal(voxqc(['frobnicate']).code, 2);
    const r = voxqc(['describe', '--threads', 'zero', samplesDir]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--threads: expected a positive integer, received 'zero'/);
    assert.equal(voxqc(['describe', '--nope']).code, 2);
  });
});
