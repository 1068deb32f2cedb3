// Feature kernels: voxqc's fused kernels vs the same pipeline in libtorch ops, torchaudio (Python
// subprocess, 1 thread and all threads) and meyda, in one run on the same input.
// Inputs: a 60 s real-speech clip at 16 kHz, and 1000 clips of 5 s cut from it.
// Prints x-real-time (audio seconds per wall second, medians) and the ratios.
// Options: --runs N (default 5), --clips N (default 1000), --quick (fewer runs, 200 clips)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Meyda from 'meyda';
import { fbank, fbankBatch, loadAudio, mfcc, mfccBatch, runtimeInfo } from '../dist/lib/index.js';
import { referenceFeatures } from '../dist/lib/features.js';
import { native } from '../dist/lib/native/loader.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const quick = args.includes('--quick');
const runs = opt('runs', quick ? 3 : 5);
const numClips = opt('clips', quick ? 200 : 1000);
const rate = 16000;
const allThreads = availableParallelism();

// --- input: 60 s of real speech -------------------------------------------------------------
async function speech60s() {
  const corpus = process.env.VOXQC_CORPUS ?? join(root, '..', 'shared', 'corpus');
  const silero = join(corpus, 'speech', 'silero_vad_test', 'test.wav');
  if (existsSync(silero)) {
    const a = await loadAudio(silero, { sampleRate: rate, durationSec: 60 });
    if (a.samples.length >= 60 * rate) return { x: a.samples.subarray(0, 60 * rate), what: 'silero-vad test.wav (real speech with pauses)' };
  }
  // Without the corpus: the bundled clips, looped to 60 s.
  const parts = [];
  for (const f of ['ljspeech_LJ001-0001.wav', 'librispeech_1688-142285-0000.flac', 'thorsten_raw_recorded_sample_01.wav']) {
    parts.push((await loadAudio(join(root, 'samples', f), { sampleRate: rate })).samples);
  }
  const x = new Float32Array(60 * rate);
  for (let i = 0, k = 0; i < x.length; k++) {
    const p = parts[k % parts.length];
    x.set(p.subarray(0, Math.min(p.length, x.length - i)), i);
    i += p.length;
  }
  return { x, what: 'bundled samples looped' };
}

function median(a) {
  const s = [...a].sort((p, q) => p - q);
  return s[Math.floor(s.length / 2)];
}
async function time(fn, n = runs) {
  await fn(); // warm-up
  const t = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    t.push((performance.now() - t0) / 1000);
  }
  return median(t);
}

// meyda: same framing as torchaudio's MFCC defaults where meyda allows it (it needs a power-of-two
// frame: 512 with hop 200, 40 coefficients from its own mel bank). A different algorithm: speed only.
function meydaMfcc(x) {
  Meyda.bufferSize = 512;
  Meyda.sampleRate = rate;
  Meyda.numberOfMFCCCoefficients = 40;
  Meyda.melBands = 128;
  let frames = 0;
  for (let start = 0; start + 512 <= x.length; start += 200) {
    Meyda.extract('mfcc', x.subarray(start, start + 512));
    frames++;
  }
  return frames;
}

const { x, what } = await speech60s();
const win = 5 * rate;
const clips = Array.from({ length: numClips }, (_, i) => {
  const off = (i * 104729) % (x.length - win + 1);
  return x.subarray(off, off + win);
});
const longSec = x.length / rate;
const batchSec = numClips * 5;
const info = await runtimeInfo();
const backend = native().featureBackend();

console.log(`voxqc feature kernels benchmark — ${new Date().toISOString().slice(0, 10)}`);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${allThreads} threads; libtorch ${info.torchVersion}; FFT ${backend.fft}, SIMD ${backend.simd}`);
console.log(`input: ${what}; long clip ${longSec} s; batch ${numClips} x 5 s; medians of ${runs} runs\n`);

const results = {};
const record = (name, seconds, audio) => {
  results[name] = { medianSeconds: seconds, audioSeconds: audio, xRealTime: audio / seconds };
};

for (const threads of [...new Set([1, allThreads])]) {
  record(`voxqc mfcc 60s ${threads}t`, await time(() => mfcc(x, { threads })), longSec);
  record(`voxqc fbank 60s ${threads}t`, await time(() => fbank(x, { threads })), longSec);
  record(`voxqc mfcc batch ${threads}t`, await time(() => mfccBatch(clips, { threads }), Math.max(1, Math.floor(runs / 2))), batchSec);
  record(`voxqc fbank batch ${threads}t`, await time(() => fbankBatch(clips, { threads }), Math.max(1, Math.floor(runs / 2))), batchSec);
}
record('libtorch-ops mfcc 60s 1t', await time(() => referenceFeatures('mfcc', x, { threads: 1 })), longSec);
record('libtorch-ops fbank 60s 1t', await time(() => referenceFeatures('kaldiFbank', x, { threads: 1 })), longSec);
const sub = clips.slice(0, Math.min(200, numClips));
record('libtorch-ops mfcc batch 1t', await time(async () => { for (const c of sub) await referenceFeatures('mfcc', c, { threads: 1 }); }, 1), sub.length * 5);
record('libtorch-ops fbank batch 1t', await time(async () => { for (const c of sub) await referenceFeatures('kaldiFbank', c, { threads: 1 }); }, 1), sub.length * 5);
record('meyda mfcc 60s 1t', await time(async () => meydaMfcc(x), Math.max(1, Math.floor(runs / 2))), longSec);

// torchaudio through Debian's python3 (torch 1.13, torchaudio 0.13), same input.
let torchaudio = null;
const py = '/usr/bin/python3';
const tmp = mkdtempSync(join(tmpdir(), 'voxqc-bench-'));
try {
  const f = join(tmp, 'clip.f32');
  writeFileSync(f, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
  const out = execFileSync(py, [join(root, 'bench', 'torchaudio_baseline.py'), f, String(rate), '--clips', String(numClips), '--seconds', '5', '--runs', String(runs)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  torchaudio = JSON.parse(out);
  for (const [k, v] of Object.entries(torchaudio.runs)) {
    const m = k.match(/^(mfcc|fbank)_(long|batch)_(\d+)thread$/);
    if (m) record(`torchaudio ${m[1]} ${m[2] === 'long' ? '60s' : 'batch'} ${m[3]}t`, v.medianSeconds, v.audioSeconds);
  }
} catch (err) {
  console.log(`(torchaudio baseline unavailable: ${String(err.message).split('\n')[0]}; install python3-torchaudio)\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const fmt = (v) => (v === undefined ? '—' : `${Math.round(v.xRealTime).toLocaleString('en-US')}×`);
const ratio = (a, b) => (a && b ? `${(a.xRealTime / b.xRealTime).toFixed(1)}×` : '—');
const rows = [];
for (const feat of ['mfcc', 'fbank']) {
  for (const input of ['60s', 'batch']) {
    const r = (who, t) => results[`${who} ${feat} ${input} ${t}t`];
    rows.push([
      `${feat} ${input === '60s' ? '60 s clip' : `${numClips} × 5 s`}`,
      fmt(r('voxqc', 1)),
      fmt(r('voxqc', allThreads)),
      fmt(r('torchaudio', 1)),
      fmt(r('torchaudio', allThreads)),
      fmt(r('libtorch-ops', 1)),
      feat === 'mfcc' && input === '60s' ? fmt(results['meyda mfcc 60s 1t']) : '—',
      ratio(r('voxqc', 1), r('torchaudio', 1)),
      ratio(r('voxqc', allThreads), r('torchaudio', allThreads)),
      feat === 'mfcc' && input === '60s' ? ratio(r('voxqc', 1), results['meyda mfcc 60s 1t']) : '—',
    ]);
  }
}
const header = ['x real time', 'voxqc 1t', `voxqc ${allThreads}t`, 'torchaudio 1t', `torchaudio ${allThreads}t`, 'libtorch-ops 1t', 'meyda 1t', 'voxqc/ta 1t', `voxqc/ta ${allThreads}t`, 'voxqc/meyda'];
console.log('| ' + header.join(' | ') + ' |');
console.log('|' + header.map(() => ' --- ').join('|') + '|');
for (const r of rows) console.log('| ' + r.join(' | ') + ' |');

mkdirSync(join(root, 'bench', 'results'), { recursive: true });
const file = join(root, 'bench', 'results', `features-${new Date().toISOString().slice(0, 10)}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine: cpus()[0]?.model, threads: allThreads, input: what, runs, numClips, backend, torchVersion: info.torchVersion, torchaudio, results }, null, 1) + '\n');
console.log(`\nresults: ${file}`);
