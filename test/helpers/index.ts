// Shared test helpers: temp dirs, ffmpeg as an independent reference, the corpus location.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const samplesDir = join(repoRoot, 'samples');

/** ../shared/corpus beside the repository, or $VOXQC_CORPUS; undefined when absent. */
export function corpusDir(): string | undefined {
  const dir = process.env.VOXQC_CORPUS ?? join(repoRoot, '..', 'shared', 'corpus');
  return existsSync(join(dir, 'manifest.jsonl')) ? dir : undefined;
}

export function tempDir(prefix = 'voxqc-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function ffmpeg(args: string[]): Buffer {
  return execFileSync('ffmpeg', ['-nostdin', '-hide_banner', '-v', 'error', '-y', ...args], { maxBuffer: 1 << 30 });
}

/** ffmpeg's own decode of `file` as float32, one array per channel. */
export function ffmpegDecode(file: string): { channels: Float32Array[]; sampleRate: number } {
  const probe = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=channels,sample_rate', '-of', 'json', file]);
  const stream = JSON.parse(probe.toString()).streams[0];
  const nch = Number(stream.channels);
  const raw = ffmpeg(['-i', file, '-map', '0:a:0', '-f', 'f32le', '-c:a', 'pcm_f32le', 'pipe:1']);
  const all = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
  const frames = all.length / nch;
  const channels = Array.from({ length: nch }, (_, c) => {
    const x = new Float32Array(frames);
    for (let i = 0; i < frames; i++) x[i] = all[i * nch + c]!;
    return x;
  });
  return { channels, sampleRate: Number(stream.sample_rate) };
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Amplitude of the sinusoid at `freq` (cycles per sample) in x[from..to), by least squares. */
export function toneAmplitude(x: Float32Array, freq: number, from = 0, to = x.length): number {
  let ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
  for (let i = from; i < to; i++) {
    const s = Math.sin(2 * Math.PI * freq * i), c = Math.cos(2 * Math.PI * freq * i);
    ss += s * s; cc += c * c; sc += s * c; xs += x[i]! * s; xc += x[i]! * c;
  }
  const det = ss * cc - sc * sc;
  const a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det;
  return Math.hypot(a, b);
}

/** RMS of x[from..to) after removing the least-squares sinusoid at `freq` (cycles per sample). */
export function residualRms(x: Float32Array, freq: number, from = 0, to = x.length): number {
  let ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
  for (let i = from; i < to; i++) {
    const s = Math.sin(2 * Math.PI * freq * i), c = Math.cos(2 * Math.PI * freq * i);
    ss += s * s; cc += c * c; sc += s * c; xs += x[i]! * s; xc += x[i]! * c;
  }
  const det = ss * cc - sc * sc;
  const a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det;
  let r = 0;
  for (let i = from; i < to; i++) {
    const e = x[i]! - a * Math.sin(2 * Math.PI * freq * i) - b * Math.cos(2 * Math.PI * freq * i);
    r += e * e;
  }
  return Math.sqrt(r / (to - from));
}

export function rms(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (to - from));
}

export function sine(freqHz: number, rate: number, n: number, amp = 0.5): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * freqHz * i) / rate);
  return x;
}
