// Layer 30: hostile input. A seeded slice of the fuzz campaign (npm run fuzz runs 10,000+ cases
// per target), the regression inputs the campaign found, a stuck decode stopped by the per-clip
// time limit, hostile manifests (.., absolute paths, symlinks, non-UTF-8 names, FIFOs, rows that
// are not JSON), a 1,000,000-row manifest streamed, and a 5-hour file graded in bounded memory:
// memory is measured on real child processes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, gradeManifest, loadAudio, mfcc, resample, VoxqcError, type GradedRow } from '../lib/index.js';
import { native } from '../lib/native/loader.js';
import { wavHeader } from '../lib/wav.js';
import { runTarget, TS_TARGETS } from '../bench/fuzz/targets.js';
import { repoRoot, samplesDir, tempDir } from './helpers/index.js';

const cli = join(repoRoot, 'dist', 'lib', 'cli.js');
const fixtures = join(repoRoot, 'test', 'fixtures', 'fuzz');
const goodWav = join(samplesDir, 'ljspeech_LJ001-0001.wav');

async function rejectsVoxqc(p: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<VoxqcError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof VoxqcError, `expected a VoxqcError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const re of patterns) assert.match(err.message, re);
    return err;
  }
  assert.fail(`expected ${code}`);
}

/** Runs a child process; resolves with its exit code, output and peak resident memory (VmHWM, kB),
 *  read from /proc while it runs (the kernel's high-water mark, so the last read is the peak). */
function runMeasured(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number }) {
  return new Promise<{ code: number | null; out: string; err: string; peakKb: number; ms: number }>((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd ?? repoRoot });
    let out = '';
    let err = '';
    let peakKb = 0;
    const poll = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        /* exited */
      }
    };
    const timer = setInterval(poll, 50);
    const kill = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child ran past ${opts.timeoutMs} ms: ${args.join(' ')}\n${err}`));
    }, opts.timeoutMs);
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('exit', () => poll());
    child.on('close', (code) => {
      clearInterval(timer);
      clearTimeout(kill);
      resolve({ code, out, err, peakKb, ms: Date.now() - t0 });
    });
  });
}

function readRows(file: string): GradedRow[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as GradedRow);
}

describe('30 hardening', () => {
  before(function () {
    if (!existsSync(cli)) throw new Error(`${cli} missing: run npm run build:ts`);
  });

  describe('fuzzing: a seeded slice of every TypeScript-side target (npm run fuzz runs 10,000 each)', () => {
    for (const t of TS_TARGETS) {
      it(`${t.name}: every case ends in a result or a VoxqcError`, async function () {
        this.timeout(300_000);
        const counts = await runTarget(t, { numRuns: t.name === 'loadAudio' ? 150 : 60, seed: 30, timeoutMs: 60_000 });
        assert.ok(counts.cases >= 60);
        // The slice reaches both endings, so it tests something on each side.
        assert.ok(counts.results > 0, `${t.name}: no case gave a result`);
        if (t.name !== 'manifest') assert.ok(counts.voxqcErrors > 0, `${t.name}: no case was refused`);
      });
    }
  });

  describe('regression inputs and limits found by fuzzing', () => {
    it('every hostile WAV fixture loads or fails with a VoxqcError that names the file', async () => {
      const dir = join(fixtures, 'wav');
      const names = readdirSync(dir).filter((f) => f.endsWith('.wav'));
      assert.ok(names.length >= 10);
      const outcomes: Record<string, string> = {};
      for (const name of names) {
        const file = join(dir, name);
        try {
          const a = await loadAudio(file);
          for (const v of a.samples) assert.ok(Number.isFinite(v), `${name}: non-finite sample returned`);
          outcomes[name] = `${a.samples.length} samples`;
        } catch (err) {
          assert.ok(err instanceof VoxqcError, `${name}: ${String(err)}`);
          assert.ok(err.message.includes(file), `${name}: message does not name the file: ${err.message}`);
          outcomes[name] = err.code;
        }
      }
      assert.equal(outcomes['one-sample.wav'], '1 samples');
      assert.equal(outcomes['zero-frames.wav'], 'ERR_DECODE');
      assert.equal(outcomes['data-size-past-end.wav'], '50 samples'); // clamped to the bytes present
      assert.equal(outcomes['float-nan-inf-denormal.wav'], 'ERR_DECODE');
      assert.equal(outcomes['channels-65535.wav'], 'ERR_DECODE');
      assert.equal(outcomes['junk-chunk-size-4G.wav'], 'ERR_DECODE');
    });

    it('decodeWav refuses an info object that does not match its bytes (read past the frame before)', async () => {
      const bytes = new Uint8Array(8);
      const out = new Float32Array(8);
      // PCM 8-bit info claiming 1024 channels in a 1-byte frame: each frame would read 1 KB.
      const info = { formatTag: 1, encoding: 1, channels: 1024, sampleRate: 16000, bitsPerSample: 8, blockAlign: 1 };
      await assert.rejects(native().decodeWav(info as never, bytes, 8, -1, out), (e: Error & { code?: string }) => e.code === 'ERR_INVALID_ARG' && /block align|bits per sample/.test(e.message));
    });

    it('resampling that would allocate gigabytes or design a filter of millions of taps is refused', async () => {
      await rejectsVoxqc(resample(new Float32Array(4000), 2, 768000), 'ERR_TOO_LONG', /1536000000 samples/);
      await rejectsVoxqc(resample(new Float32Array(4000), 768000, 1), 'ERR_INVALID_ARG', /taps/);
      const ok = await resample(new Float32Array(4000).fill(0.25), 48000, 16000);
      assert.equal(ok.length, 1334);
    });

    it('feature options past their limits fail fast instead of building giant filterbanks', async () => {
      const x = new Float32Array(16000);
      await rejectsVoxqc(mfcc(x, { nFft: 2 ** 31 - 1, hopLength: 160 }), 'ERR_INVALID_ARG', /nFft/);
      await rejectsVoxqc(mfcc(x, { nFft: 65536, nMels: 1024, nMfcc: 13, hopLength: 160, padMode: 'constant' }), 'ERR_INVALID_ARG', /nMels/);
    });
  });

  describe('a stuck decode is stopped by the per-clip time limit', () => {
    it('voxqc grade --clip-timeout: the stuck clip gets an ERR_TIMEOUT row, ffmpeg is killed, the run goes on', async function () {
      this.timeout(120_000);
      const t = tempDir();
      try {
        // An ffmpeg that answers -version and then hangs on every decode (records its pid).
        const fake = join(t.dir, 'ffmpeg-stuck.sh');
        writeFileSync(fake, `#!/bin/sh\ncase "$1" in -version) echo "ffmpeg version stuck"; exit 0;; esac\necho $$ >> ${join(t.dir, 'pids')}\nexec sleep 600\n`);
        chmodSync(fake, 0o755);
        writeFileSync(join(t.dir, 'stuck.mp3'), Buffer.alloc(4096, 0x55));
        copyFileSync(goodWav, join(t.dir, 'good.wav'));
        writeFileSync(join(t.dir, 'm.jsonl'), '{"audio_filepath": "stuck.mp3"}\n{"audio_filepath": "good.wav"}\n');
        const out = join(t.dir, 'out.jsonl');
        const r = await runMeasured([cli, 'grade', join(t.dir, 'm.jsonl'), '--out', out, '--clip-timeout', '3', '--jobs', '2', '--quiet', '--mode', 'rules'], {
          env: { VOXQC_FFMPEG: fake },
          timeoutMs: 90_000,
        });
        assert.equal(r.code, 1, r.err); // some clips failed
        const rows = readRows(out);
        const stuck = rows.find((x) => x.audio_filepath === 'stuck.mp3')!;
        const good = rows.find((x) => x.audio_filepath === 'good.wav')!;
        assert.equal(stuck.voxqc.error?.code, 'ERR_TIMEOUT');
        assert.match(stuck.voxqc.error!.message, /stuck\.mp3: grading took longer than the 3 s per-clip limit/);
        assert.ok(stuck.voxqc.ms! >= 2900 && stuck.voxqc.ms! < 30_000, `ms ${stuck.voxqc.ms}`);
        assert.ok(good.voxqc.grade, JSON.stringify(good.voxqc));
        // The hung ffmpeg was killed, not left behind.
        const pids = readFileSync(join(t.dir, 'pids'), 'utf8').trim().split('\n').map(Number);
        assert.ok(pids.length >= 1);
        for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/);
      } finally {
        t.cleanup();
      }
    });
  });

  describe('hostile manifests', () => {
    let t: { dir: string; cleanup(): void };
    let root: string;
    const outsideFile = () => join(t.dir, 'outside.wav');
    before(() => {
      t = tempDir();
      root = join(t.dir, 'data');
      mkdirSync(root);
      copyFileSync(goodWav, join(root, 'good.wav'));
      copyFileSync(goodWav, outsideFile());
      symlinkSync(outsideFile(), join(root, 'link-out.wav'));
      symlinkSync(join(root, 'good.wav'), join(root, 'link-in.wav'));
      // A file whose name is not valid UTF-8 (byte 0xff).
      writeFileSync(Buffer.concat([Buffer.from(root + '/bad'), Buffer.from([0xff]), Buffer.from('.wav')]), readFileSync(goodWav));
      execFileSync('mkfifo', [join(root, 'fifo.wav')]);
      const lines = [
        '{"audio_filepath": "good.wav", "id": "good"}',
        '{"audio_filepath": "../outside.wav", "id": "dotdot"}',
        JSON.stringify({ audio_filepath: outsideFile(), id: 'absolute' }),
        '{"audio_filepath": "link-out.wav", "id": "link-out"}',
        '{"audio_filepath": "link-in.wav", "id": "link-in"}',
        '{"audio_filepath": "fifo.wav", "id": "fifo"}',
        '{"audio_filepath": "/dev/zero", "id": "device"}',
        'this row is not JSON {',
      ];
      const m = Buffer.concat([
        Buffer.from(lines.join('\n') + '\n'),
        Buffer.from('{"audio_filepath": "bad'), Buffer.from([0xff]), Buffer.from('.wav", "id": "non-utf8"}\n'),
      ]);
      writeFileSync(join(root, 'm.jsonl'), m);
    });
    after(() => t.cleanup());

    const byId = (rows: GradedRow[]) => Object.fromEntries(rows.map((r) => [r.voxqc.id, r.voxqc]));

    it('with root: paths that leave it (.., absolute, symlink) get error rows; nothing hangs or crashes', async function () {
      this.timeout(120_000);
      const out = join(t.dir, 'rooted.jsonl');
      const s = await gradeManifest(join(root, 'm.jsonl'), { out, root, resume: false, concurrency: 2 });
      const v = byId(readRows(out));
      assert.equal(s.done, 9);
      assert.ok(v.good!.grade);
      assert.ok(v['link-in']!.grade, JSON.stringify(v['link-in']));
      for (const id of ['dotdot', 'absolute', 'link-out', 'device']) {
        assert.equal(v[id]!.error?.code, 'ERR_INVALID_ARG', id);
        assert.match(v[id]!.error!.message, /is outside the root folder .*; it was not read/, id);
      }
      assert.match(v['link-out']!.error!.message, /link-out\.wav \(.*outside\.wav\)/);
      assert.equal(v.fifo!.error?.code, 'ERR_INVALID_ARG');
      assert.match(v.fifo!.error!.message, /fifo\.wav: is a named pipe \(FIFO\), not an audio file/);
      const notJson = Object.values(v).find((x) => x.input.raw !== undefined)!;
      assert.equal(notJson.error?.code, 'ERR_INVALID_ARG');
      assert.match(notJson.error!.message, /line 8: not valid JSON/);
      // The non-UTF-8 byte cannot survive JSON (it reads as U+FFFD), so the name matches no file.
      assert.equal(v['non-utf8']!.error?.code, 'ERR_NOT_FOUND');
      assert.match(v['non-utf8']!.error!.message, /bad\uFFFD\.wav: no such file/);
    });

    it('without root: paths are taken as written (.. and symlinks are read); devices and FIFOs are still refused', async function () {
      this.timeout(120_000);
      const out = join(t.dir, 'free.jsonl');
      await gradeManifest(join(root, 'm.jsonl'), { out, resume: false, concurrency: 2 });
      const v = byId(readRows(out));
      for (const id of ['good', 'dotdot', 'absolute', 'link-out', 'link-in']) assert.ok(v[id]!.grade, `${id}: ${JSON.stringify(v[id]!.error)}`);
      assert.match(v.device!.error!.message, /\/dev\/zero: is a device, not an audio file/);
      assert.equal(v.fifo!.error?.code, 'ERR_INVALID_ARG');
    });

    it('a folder holding a non-UTF-8 file name is graded; that file gets an error row', async function () {
      this.timeout(120_000);
      const out = join(t.dir, 'dir.jsonl');
      const s = await gradeManifest(root, { out, root, resume: false });
      const rows = readRows(out);
      assert.equal(s.done, rows.length);
      const bad = rows.find((r) => String(r.audio_filepath).startsWith('bad'))!;
      assert.ok(bad.voxqc.error || bad.voxqc.grade, JSON.stringify(bad.voxqc));
      if (bad.voxqc.error) assert.match(bad.voxqc.error.message, /bad\uFFFD\.wav/);
      assert.ok(rows.find((r) => r.audio_filepath === 'good.wav')!.voxqc.grade);
    });
  });

  describe('bounded memory (real child processes)', () => {
    it('a 1,000,000-row manifest is read as a stream: peak memory far below its size in memory', async function () {
      this.timeout(300_000);
      const t = tempDir();
      try {
        const file = join(t.dir, 'big.jsonl');
        const fd = openSync(file, 'w');
        let bytes = 0;
        for (let block = 0; block < 100; block++) {
          let s = '';
          for (let i = block * 10_000; i < (block + 1) * 10_000; i++) {
            s += `{"audio_filepath": "clips/spk${i % 997}/utt${i}.wav", "duration": ${(1 + (i % 13) / 7).toFixed(3)}, "text": "row number ${i} of a long manifest"}\n`;
          }
          bytes += writeSync(fd, s);
        }
        closeSync(fd);
        const script = `
          const { readManifest } = await import(${JSON.stringify(join(repoRoot, 'dist', 'lib', 'index.js'))});
          let rows = 0, last = -1, seconds = 0;
          for await (const r of readManifest(${JSON.stringify(file)})) { rows++; last = r.index; seconds += r.durationSec; }
          console.log(JSON.stringify({ rows, last, seconds }));`;
        const r = await runMeasured(['--input-type=module', '-e', script], { timeoutMs: 280_000 });
        assert.equal(r.code, 0, r.err);
        const res = JSON.parse(r.out);
        assert.equal(res.rows, 1_000_000);
        assert.equal(res.last, 999_999);
        let expected = 0;
        for (let i = 0; i < 1_000_000; i++) expected += Number((1 + (i % 13) / 7).toFixed(3));
        assert.ok(Math.abs(res.seconds - expected) < 1e-3 * expected);
        // Held in memory, the rows would take several times the file (>= 100 MB here).
        assert.ok(bytes > 100e6, `manifest ${bytes} bytes`);
        assert.ok(r.peakKb > 0 && r.peakKb * 1024 < 200e6, `peak RSS ${(r.peakKb / 1024).toFixed(0)} MB`);
        console.log(`        1,000,000 rows (${(bytes / 1e6).toFixed(0)} MB): peak RSS ${(r.peakKb / 1024).toFixed(0)} MB`);
      } finally {
        t.cleanup();
      }
    });

    it('a 5-hour WAV is graded by the CLI in chunks with resident memory under 1 GB', async function () {
      this.timeout(900_000);
      const t = tempDir();
      try {
        // 5 h of 8 kHz 16-bit mono (288 MB), written in blocks: a noise floor at about -50 dBFS
        // with 2 s harmonic bursts (varying pitch) every 3 s, so nothing repeats exactly.
        const rate = 8000;
        const seconds = 5 * 3600;
        const file = join(t.dir, 'five-hours.wav');
        const fd = openSync(file, 'w');
        writeSync(fd, wavHeader(seconds * rate * 2, rate, 'pcm16'));
        // 17 burst shapes (3 s each: 2 s of voice, 1 s of floor), computed once.
        const bursts = Array.from({ length: 17 }, (_, b) => {
          const x = new Float32Array(3 * rate);
          const f0 = 110 + b * 7;
          for (let i = 0; i < 2 * rate; i++) {
            const tIn = i / rate;
            const env = Math.sin((Math.PI * tIn) / 2) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 4 * tIn));
            let h = 0;
            for (let k = 1; k <= 3; k++) h += Math.sin((2 * Math.PI * f0 * k * i) / rate) / k;
            x[i] = 0.12 * env * h;
          }
          return x;
        });
        let seed = 12345;
        const block = new Int16Array(rate * 60);
        for (let minute = 0; minute < seconds / 60; minute++) {
          for (let i = 0; i < rate * 60; i++) {
            const n = minute * rate * 60 + i;
            seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
            const v = (seed / 4294967296 - 0.5) * 0.01 + bursts[Math.floor(n / (3 * rate)) % 17]![n % (3 * rate)]!;
            block[i] = Math.max(-32768, Math.min(32767, Math.round(v * 32768)));
          }
          writeSync(fd, block);
        }
        closeSync(fd);
        writeFileSync(join(t.dir, 'm.jsonl'), '{"audio_filepath": "five-hours.wav", "id": "long"}\n');
        const out = join(t.dir, 'out.jsonl');
        const r = await runMeasured([cli, 'grade', join(t.dir, 'm.jsonl'), '--out', out, '--quiet', '--jobs', '1', '--mode', 'rules'], { timeoutMs: 880_000 });
        assert.equal(r.code, 0, r.err);
        const [row] = readRows(out);
        const sc = row!.voxqc.scores!;
        assert.equal(sc.durationSec, seconds);
        const speech = sc.speechSec as number;
        assert.ok(speech > 0.55 * seconds && speech < 0.85 * seconds, `speechSec ${speech}`);
        assert.ok((sc.snrDb as number) > 20, `snrDb ${sc.snrDb}`);
        assert.ok((sc.speechSegments as number) > 4000, `segments ${sc.speechSegments}`);
        // The first 5 minutes alone (one chunk) measure the same speech share and level.
        const head = await analyze(file, { durationSec: 300 });
        assert.ok(Math.abs((head.scores.speechSec as number) / 300 - speech / seconds) < 0.03);
        assert.ok(Math.abs((head.scores.activeLevelDbfs as number) - (sc.activeLevelDbfs as number)) < 1);
        assert.ok(r.peakKb > 0 && r.peakKb < 1024 * 1024, `peak RSS ${(r.peakKb / 1024).toFixed(0)} MB`);
        console.log(`        5 h WAV (288 MB) graded in ${(r.ms / 1000).toFixed(0)} s, peak RSS ${(r.peakKb / 1024).toFixed(0)} MB`);
      } finally {
        t.cleanup();
      }
    });
  });
});
