// voxqc simulate: plants defects with known parameters into real recordings and writes audio plus
// a manifest whose labels (grade, flags, true values) follow the rubric from what was planted.
//
// Sources are checked first: each candidate clip is analysed, long silences at its edges are
// trimmed to 0.25 s, and it is used only if the rule grade of the result is "high" (so a source
// that is already noisy, clipped, too quiet or narrowband is not mistaken for clean). Every
// output clip i draws from its own generator, derived from the seed and i, so a run is the same
// for the same seed whatever the concurrency, and a longer run extends a shorter one.
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import pLimit from 'p-limit';
import { loadAudio, resample } from '../audio.js';
import { VoxqcError } from '../errors.js';
import type { Flag, Grade, Scores } from '../grading.js';
import { native } from '../native/loader.js';
import { applyRubric, DEFAULT_THRESHOLDS } from '../rubric.js';
import { getConfig } from '../runtime.js';
import { writeWav } from '../wav.js';
import { encodeWithFfmpeg, shiftVideoAudio } from './media.js';
import { DEFAULT_WEIGHTS, drawParams, truthFromPlanting, type DefectKind, type Planted } from './recipes.js';
import { Rng } from './rng.js';

export interface SimulateOptions {
  /** A corpus directory holding manifest.jsonl (the shared corpus layout), or a manifest path. */
  corpus: string;
  /** Output directory: audio files and manifest.jsonl. */
  out: string;
  /** Number of clips to write. */
  n: number;
  /** Seed of the run. Default 1. */
  seed?: number;
  /** Rate of the written clips. Default 16000. */
  sampleRate?: number;
  /** Probability that a clip carries a second defect. Default 0.25. */
  secondDefectProbability?: number;
  /** Relative weights of the defect kinds (and 'clean'). Default DEFAULT_WEIGHTS. */
  weights?: Partial<typeof DEFAULT_WEIGHTS>;
  /** Also write GRID videos with shifted audio (needs video rows in the manifest). Default 0 (none). */
  videos?: number;
  /** Progress callback. */
  onProgress?: (done: number, total: number) => void;
}

export interface SimulatedLabel {
  grade: Grade;
  flags: Flag[];
  /** The true values of the rubric's measurements for this clip. */
  truth: Scores;
  planted: Planted[];
  source: { path: string; source: string; speaker: string; trimmedSec: [number, number] };
}

interface ManifestRow {
  audio: string;
  kind?: string;
  source?: string;
  duration?: number;
  sampleRate?: number;
  language?: string;
  text?: string;
}

interface CleanSource {
  row: ManifestRow;
  path: string;
  speaker: string;
  samples: Float32Array;
  segments: Array<[number, number]>;
  scores: Scores;
  trimmed: [number, number];
}

const EDGE_MARGIN_SEC = 0.25;

/** Speaker of a corpus clip: LibriSpeech-style "<speaker>-<chapter>-<utt>" names, else the source. */
export function speakerOf(row: ManifestRow): string {
  const name = basename(row.audio);
  const libri = name.match(/^(\d+)-\d+-\d+/);
  if (libri) return `${row.source ?? 'librispeech'}:${libri[1]}`;
  const sc = name.match(/^[a-z]+_([0-9a-f]{8})_nohash/);
  if (sc) return `${row.source}:${sc[1]}`;
  const fsdd = name.match(/^\d_([a-z]+)_\d+\.wav$/);
  if (fsdd) return `${row.source}:${fsdd[1]}`;
  // A talking-head video (GRID): each recording counts as its own speaker.
  if (row.kind === 'video') return `${row.source ?? 'video'}:${basename(name, extname(name))}`;
  return `${row.source ?? dirname(row.audio)}`;
}

async function readManifest(corpus: string): Promise<{ rows: ManifestRow[]; base: string }> {
  const file = existsSync(join(corpus, 'manifest.jsonl')) ? join(corpus, 'manifest.jsonl') : corpus;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new VoxqcError('ERR_NOT_FOUND', `${corpus}: neither a corpus directory with manifest.jsonl nor a manifest`, { file: corpus });
  }
  const rows = text
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        const r = JSON.parse(l);
        return { ...r, audio: r.audio ?? r.audio_filepath ?? r.path } as ManifestRow;
      } catch {
        throw new VoxqcError('ERR_DECODE', `${file}:${i + 1}: not a JSON line`, { file });
      }
    });
  return { rows, base: dirname(file) };
}

/** Analyses a source and returns it trimmed, or the reason it is not clean. */
async function checkSource(row: ManifestRow, base: string, rate: number): Promise<CleanSource | string> {
  const path = resolve(base, row.audio);
  let audio;
  try {
    audio = await loadAudio(path, { sampleRate: rate, maxDurationSec: 30 });
  } catch (err) {
    return `cannot load: ${(err as Error).message}`;
  }
  if (audio.source.sampleRate < 16000) return `native rate ${audio.source.sampleRate} Hz is below 16 kHz (narrowband by nature)`;
  const threads = getConfig().threads;
  const first = await native().analyzeSignal(audio.samples, rate, {}, threads);
  const segs = first.segments;
  if (segs.length < 2) return 'no speech found';
  // Trim the edges to EDGE_MARGIN_SEC around the speech span.
  const start = Math.max(0, segs[0]! - EDGE_MARGIN_SEC);
  const end = Math.min(audio.durationSec, segs[segs.length - 1]! + EDGE_MARGIN_SEC);
  const samples = audio.samples.slice(Math.round(start * rate), Math.round(end * rate));
  const analysis = await native().analyzeSignal(samples, rate, {}, threads);
  const scores: Scores = { ...analysis.scores, sampleRate: audio.source.sampleRate };
  const { grade, flags } = applyRubric(scores);
  if (grade !== 'high') return `not clean after trimming: ${flags.join(', ')}`;
  if ((scores.speechSec as number) < 1) return 'under 1 s of speech';
  const segments: Array<[number, number]> = [];
  for (let i = 0; i + 1 < analysis.segments.length; i += 2) segments.push([analysis.segments[i]!, analysis.segments[i + 1]!]);
  return { row, path, speaker: speakerOf(row), samples, segments, scores, trimmed: [start, audio.durationSec - end] };
}

/** A point inside a speech segment at least `margin` seconds from its ends, or undefined. */
function insideSpeech(src: CleanSource, rng: Rng, margin: number, minStart = 0, maxEnd = Infinity): number | undefined {
  const usable = src.segments.filter(([s, e]) => Math.min(e, maxEnd) - Math.max(s, minStart) > 2 * margin);
  if (usable.length === 0) return undefined;
  const [s, e] = rng.pick(usable);
  return rng.uniform(Math.max(s, minStart) + margin, Math.min(e, maxEnd) - margin);
}

/** The fraction of samples that sit at ±level in runs of at least 2 (the rubric's definition). */
export function clippedFractionAt(x: Float32Array, level: number): number {
  let count = 0;
  let run = 0;
  for (let i = 0; i <= x.length; i++) {
    const at = i < x.length && Math.abs(x[i]!) >= level;
    if (at) run++;
    else {
      if (run >= 2) count += run;
      run = 0;
    }
  }
  return count / Math.max(1, x.length);
}

function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Low-level room tone: a stretch of the noise bed scaled to -70 dBFS RMS (not digital silence). */
function roomTone(noise: Float32Array, n: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  let off = rng.int(0, Math.max(1, noise.length - n));
  let e = 0;
  for (let i = 0; i < n; i++) {
    const v = noise[(off + i) % noise.length]!;
    out[i] = v;
    e += v * v;
  }
  const g = Math.pow(10, -70 / 20) / Math.sqrt(e / Math.max(1, n) + 1e-20);
  for (let i = 0; i < n; i++) out[i]! *= g;
  return out;
}

function substituteWords(text: string, rate: number, vocabulary: string[], rng: Rng): { text: string; wer: number } {
  const words = text.split(/\s+/).filter(Boolean);
  const k = Math.max(1, Math.round(rate * words.length));
  const idx = new Set<number>();
  while (idx.size < Math.min(k, words.length)) idx.add(rng.int(0, words.length));
  for (const i of idx) {
    let w = rng.pick(vocabulary);
    for (let t = 0; t < 5 && w.toLowerCase() === words[i]!.toLowerCase(); t++) w = rng.pick(vocabulary);
    words[i] = w;
  }
  return { text: words.join(' '), wer: idx.size / words.length };
}

export interface SimulateSummary {
  written: number;
  sources: { checked: number; clean: number; rejected: Array<{ path: string; reason: string }> };
  grades: Record<Grade, number>;
  flags: Partial<Record<Flag, number>>;
  manifest: string;
}

export async function simulate(options: SimulateOptions): Promise<SimulateSummary> {
  const rate = options.sampleRate ?? 16000;
  const seed = options.seed ?? 1;
  const root = new Rng(seed);
  const weights = { ...DEFAULT_WEIGHTS, ...options.weights };
  if (typeof native().analyzeSignal !== 'function') {
    throw new VoxqcError('ERR_UNSUPPORTED', 'simulate: this build of the native addon has no signal metrics (needed to check the sources)');
  }
  const { rows, base } = await readManifest(options.corpus);
  const speechRows = rows.filter((r) => (r.kind ?? 'speech') === 'speech' && r.audio && (r.duration ?? 5) >= 1.5 && (r.duration ?? 5) <= 20);
  const noiseRows = rows.filter((r) => r.kind === 'noise' && !/silen/i.test(r.audio));
  const rirRows = rows.filter((r) => r.kind === 'rir');
  if (speechRows.length === 0) throw new VoxqcError('ERR_INVALID_ARG', `${options.corpus}: no speech clips of 1.5–20 s in the manifest`);
  if (noiseRows.length === 0) throw new VoxqcError('ERR_INVALID_ARG', `${options.corpus}: no noise recordings (kind "noise") in the manifest`);

  // Check every candidate source once (in manifest order, so the clean list is deterministic).
  const limit = pLimit(getConfig().concurrency);
  const checked = await Promise.all(speechRows.map((row) => limit(() => checkSource(row, base, rate))));
  const clean: CleanSource[] = [];
  const rejected: Array<{ path: string; reason: string }> = [];
  checked.forEach((c, i) => (typeof c === 'string' ? rejected.push({ path: speechRows[i]!.audio, reason: c }) : clean.push(c)));
  if (clean.length === 0) throw new VoxqcError('ERR_INVALID_ARG', `${options.corpus}: none of the ${speechRows.length} speech clips is clean`);
  const texts = clean.filter((c) => c.row.text).map((c) => c.row.text!);
  const vocabulary = [...new Set(texts.flatMap((t) => t.split(/\s+/)).filter((w) => /\p{L}/u.test(w)))];

  const noises = await Promise.all(noiseRows.map((r) => limit(async () => (await loadAudio(resolve(base, r.audio), { sampleRate: rate })).samples)));
  const rirs = await Promise.all(
    rirRows.map((r) => limit(async () => ({ path: r.audio, x: (await loadAudio(resolve(base, r.audio), { sampleRate: rate, channel: 0 })).samples }))),
  );

  await mkdir(join(options.out, 'audio'), { recursive: true });
  const manifestPath = join(options.out, 'manifest.jsonl');
  const out = createWriteStream(manifestPath);
  const summary: SimulateSummary = {
    written: 0,
    sources: { checked: speechRows.length, clean: clean.length, rejected },
    grades: { high: 0, medium: 0, low: 0 },
    flags: {},
    manifest: manifestPath,
  };
  const kinds = Object.keys(weights).filter((k) => k !== 'av_shift') as Array<DefectKind | 'clean'>;
  const w = Object.fromEntries(kinds.map((k) => [k, weights[k]])) as Record<DefectKind | 'clean', number>;
  const threads = getConfig().threads;

  const makeOne = async (i: number) => {
    const rng = root.fork(`clip-${i}`);
    const src = rng.pick(clean);
    let x: Float32Array = src.samples.slice();
    let text = src.row.text;
    const truth: Scores = { ...src.scores };
    const planted: Planted[] = [];
    const first = rng.weighted(w);
    const todo: DefectKind[] = first === 'clean' ? [] : [first];
    if (first !== 'clean' && first !== 'no_speech' && rng.next() < (options.secondDefectProbability ?? 0.25)) {
      const second = rng.weighted(w);
      if (second !== 'clean' && second !== first && second !== 'no_speech') todo.push(second);
    }
    let ext = '.wav';
    let encoded: { codec: string; kbps: number } | undefined;
    for (const kind of todo) {
      const params = drawParams(kind, rng);
      const p: Planted = { kind, params };
      switch (kind) {
        case 'noise': {
          const ni = rng.int(0, noises.length);
          const noise = noises[ni]!;
          const offset = rng.int(0, Math.max(1, noise.length));
          const y = new Float32Array(x.length);
          await native().mixAtSnr(x, rate, noise, params.snrDb as number, offset, y, threads);
          x = y;
          params.noise = noiseRows[ni]!.audio;
          break;
        }
        case 'clipping': {
          // Clip at the magnitude exceeded by the target fraction of samples.
          const mags = Float32Array.from(x, Math.abs).sort();
          const level = mags[Math.min(mags.length - 1, Math.floor((1 - (params.targetFraction as number)) * mags.length))]!;
          for (let j = 0; j < x.length; j++) x[j] = Math.max(-level, Math.min(level, x[j]!));
          params.level = level;
          break;
        }
        case 'dropout': {
          const len = Math.round(((params.durationMs as number) / 1000) * rate);
          const at = insideSpeech(src, rng, (params.durationMs as number) / 2000 + 0.02);
          if (at === undefined) continue;
          const s = Math.round(at * rate - len / 2);
          x.fill(params.value as number, s, s + len);
          params.atSec = s / rate;
          break;
        }
        case 'repetition': {
          const len = Math.round((params.durationSec as number) * rate);
          const [s0, e0] = [src.segments[0]![0], src.segments.at(-1)![1]];
          if ((e0 - s0) * rate < len + 0.2 * rate) continue;
          const start = Math.round(rng.uniform(s0, e0 - len / rate) * rate);
          x = concat(x.subarray(0, start + len), x.subarray(start, start + len), x.subarray(start + len));
          params.atSec = start / rate;
          break;
        }
        case 'truncation': {
          const where = params.where as string;
          const dur = x.length / rate;
          let cutStart = 0, cutEnd = dur;
          if (where !== 'end') {
            const t = insideSpeech(src, rng, 0.06, 0, dur / 2);
            if (t === undefined) continue;
            cutStart = t;
            truth.truncatedStart = true;
          }
          if (where !== 'start') {
            const t = insideSpeech(src, rng, 0.06, dur / 2, dur);
            if (t === undefined) continue;
            cutEnd = t;
            truth.truncatedEnd = true;
          }
          x = x.slice(Math.round(cutStart * rate), Math.round(cutEnd * rate));
          params.cutStartSec = cutStart;
          params.cutEndSec = cutEnd;
          break;
        }
        case 'bandlimit': {
          const down = await resample(x, rate, params.toRate as number);
          x = (await resample(down, params.toRate as number, rate)).subarray(0, x.length).slice();
          break;
        }
        case 'codec':
          encoded = { codec: params.codec as string, kbps: params.kbps as number };
          ext = params.codec === 'mp3' ? '.mp3' : '.opus';
          break;
        case 'gain': {
          const g = Math.pow(10, (params.gainDb as number) / 20);
          for (let j = 0; j < x.length; j++) x[j]! *= g;
          break;
        }
        case 'reverb': {
          if (rirs.length === 0) continue;
          const r = rng.pick(rirs);
          const y = new Float32Array(x.length);
          await native().convolve(x, r.x, y, threads);
          x = y;
          params.rir = r.path;
          break;
        }
        case 'silence': {
          const n = Math.round((params.seconds as number) * rate);
          const tone = () => roomTone(rng.pick(noises), n, rng);
          const where = params.where as string;
          x = concat(where !== 'trailing' ? tone() : new Float32Array(0), x, where !== 'leading' ? tone() : new Float32Array(0));
          if (where !== 'trailing') truth.leadingSilenceSec = (truth.leadingSilenceSec as number) + (params.seconds as number);
          if (where !== 'leading') truth.trailingSilenceSec = (truth.trailingSilenceSec as number) + (params.seconds as number);
          break;
        }
        case 'pause': {
          // A pause between two speech segments (room tone, not digital zeros: zeros would be a dropout).
          const gaps = src.segments.slice(1).map((s, k) => [src.segments[k]![1], s[0]] as [number, number]);
          if (gaps.length === 0) continue;
          const [g0, g1] = rng.pick(gaps);
          const at = Math.round(((g0 + g1) / 2) * rate);
          const n = Math.round((params.seconds as number) * rate);
          x = concat(x.subarray(0, at), roomTone(rng.pick(noises), n, rng), x.subarray(at));
          truth.maxPauseSec = Math.max(truth.maxPauseSec as number, g1 - g0 + (params.seconds as number));
          break;
        }
        case 'no_speech': {
          const n = Math.round((params.seconds as number) * rate);
          x = params.content === 'silence' ? roomTone(rng.pick(noises), n, rng) : rng.pick(noises).slice(0, n);
          text = undefined;
          for (const k of Object.keys(truth)) delete truth[k];
          truth.speechSec = 0;
          break;
        }
        case 'wrong_transcript': {
          if (!text) continue;
          if (params.mode === 'other') {
            const others = texts.filter((t) => t !== text);
            if (others.length === 0) continue;
            params.originalText = text;
            text = rng.pick(others);
            params.wordErrorRate = 1;
          } else {
            params.originalText = text;
            const r = substituteWords(text, params.wordErrorRate as number, vocabulary, rng);
            text = r.text;
            params.wordErrorRate = r.wer;
          }
          truth.wordErrorRate = params.wordErrorRate as number;
          break;
        }
        case 'av_shift':
          break;
      }
      Object.assign(truth, truthFromPlanting(p, src.scores));
      planted.push(p);
    }
    // Values known only from the written signal.
    const peak = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    truth.clippedFraction = planted.some((p) => p.kind === 'clipping') ? clippedFractionAt(x, peak) : 0;
    truth.durationSec = x.length / rate;
    truth.sampleRate = rate;
    const labelScores: Scores = { ...truth };
    if (truth.wordErrorRate !== undefined) labelScores.textMatch = (truth.wordErrorRate as number) > 0.3 ? 0 : 1;
    const { grade, flags } = applyRubric(labelScores, DEFAULT_THRESHOLDS);
    const name = `sim-${String(i).padStart(6, '0')}`;
    const file = join(options.out, 'audio', name + ext);
    if (encoded) await encodeWithFfmpeg(x, rate, file, encoded.codec, encoded.kbps);
    else await writeWav(file, x, rate);
    const label: SimulatedLabel = {
      grade,
      flags,
      truth,
      planted,
      source: { path: src.row.audio, source: src.row.source ?? '', speaker: src.speaker, trimmedSec: src.trimmed },
    };
    const row = {
      id: name,
      audio_filepath: relative(options.out, file),
      duration: x.length / rate,
      ...(text ? { text } : {}),
      ...(src.row.language ? { language: src.row.language } : {}),
      speaker: src.speaker,
      source: src.row.source,
      label,
    };
    return row;
  };

  // Write in index order (a small reorder window keeps several clips in flight).
  const results = new Map<number, object>();
  let next = 0;
  const flush = () => {
    while (results.has(next)) {
      const row = results.get(next)! as { label: SimulatedLabel };
      out.write(JSON.stringify(row) + '\n');
      summary.written++;
      summary.grades[row.label.grade]++;
      for (const f of row.label.flags) summary.flags[f] = (summary.flags[f] ?? 0) + 1;
      results.delete(next++);
      options.onProgress?.(summary.written, options.n);
    }
  };
  await Promise.all(
    Array.from({ length: options.n }, (_, i) =>
      limit(async () => {
        results.set(i, await makeOne(i));
        flush();
      }),
    ),
  );
  if (options.videos) {
    const videoRows = rows.filter((r) => r.kind === 'video');
    await mkdir(join(options.out, 'video'), { recursive: true });
    for (let v = 0; v < options.videos && videoRows.length > 0; v++) {
      const rng = root.fork(`video-${v}`);
      const row = rng.pick(videoRows);
      const offsetMs = rng.next() < 0.3 ? 0 : (drawParams('av_shift', rng).offsetMs as number);
      const file = join(options.out, 'video', `simv-${String(v).padStart(5, '0')}${extname(row.audio) === '.mpg' ? '.mkv' : extname(row.audio)}`);
      await shiftVideoAudio(resolve(base, row.audio), file, offsetMs);
      const truth: Scores = { avOffsetMs: offsetMs };
      const { grade, flags } = applyRubric(truth);
      const label: SimulatedLabel = {
        grade,
        flags,
        truth,
        planted: offsetMs ? [{ kind: 'av_shift', params: { offsetMs } }] : [],
        source: { path: row.audio, source: row.source ?? '', speaker: speakerOf(row), trimmedSec: [0, 0] },
      };
      out.write(
        JSON.stringify({ id: basename(file, extname(file)), audio_filepath: relative(options.out, file), video_filepath: relative(options.out, file), duration: row.duration, text: row.text, language: row.language, speaker: label.source.speaker, source: row.source, label }) + '\n',
      );
      summary.written++;
      summary.grades[grade]++;
      for (const f of flags) summary.flags[f] = (summary.flags[f] ?? 0) + 1;
    }
  }
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
  return summary;
}
