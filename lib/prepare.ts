// Training data for the learned grader: turns a labelled manifest (what `voxqc simulate` writes)
// into the prepared form the native trainer reads (cpp/train/data.h): 16 kHz WAV audio, the rule
// metrics measured on each clip exactly as grading measures them (analyze(): the model takes them
// as input tokens, so training and grading must see the same values), mouth-region frames of each
// video (decodeMouthFrames, the same call grading uses) in .vxv files, and a speaker-disjoint
// train/validation split.
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, dirname, extname, join, resolve } from 'node:path';
import pLimit from 'p-limit';
import { analyze } from './analyze.js';
import { loadAudio } from './audio.js';
import { VoxqcError } from './errors.js';
import type { Scores } from './grading.js';
import { checkInteger, checkNumber, checkOptions, invalid } from './validate.js';
import { decodeMouthFrames } from './video.js';
import { writeWav } from './wav.js';

export interface PrepareOptions {
  /** A labelled manifest (.jsonl) or a directory holding manifest.jsonl (e.g. `voxqc simulate`'s output). */
  data: string;
  /** Output directory: manifest.jsonl, audio/ (converted clips), video/ (.vxv frames). */
  out: string;
  /** Share of speakers held out for validation (by a hash of the speaker name). Default 0.15. */
  valFraction?: number;
  /** Salt of that hash: another seed draws another speaker-disjoint split. Default 0. */
  splitSeed?: number;
  /** Video frames as the model takes them. Default { fps: 25, width: 64, height: 48 } (the default config's). */
  video?: { fps: number; width: number; height: number };
  /** Clips prepared at once. Default 2. */
  jobs?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface PrepareSummary {
  manifest: string;
  rows: number;
  /** Rows that could not be prepared (they are left out; each is listed with its reason). */
  errors: Array<{ id: string; line: number; message: string }>;
  train: { rows: number; speakers: number };
  val: { rows: number; speakers: number };
}

interface LabelledRow {
  id?: string;
  audio?: string;
  audio_filepath?: string;
  video?: string;
  video_filepath?: string;
  text?: string;
  language?: string;
  speaker?: string;
  source?: string;
  split?: 'train' | 'val' | null;
  label?: { grade?: string; flags?: string[]; truth?: Scores; source?: { path?: string }; planted?: unknown[] };
}

/** The validation side of a speaker: a hash of its name (salted by a non-zero seed) below valFraction. */
export function isValidationSpeaker(speaker: string, valFraction: number, seed = 0): boolean {
  const h = createHash('sha256').update(seed === 0 ? speaker : `${seed}:${speaker}`).digest();
  return h.readUInt32BE(0) / 2 ** 32 < valFraction;
}

function manifestPath(data: string): string {
  if (existsSync(join(data, 'manifest.jsonl'))) return join(data, 'manifest.jsonl');
  if (existsSync(data) && extname(data) === '.jsonl') return data;
  throw new VoxqcError('ERR_NOT_FOUND', `prepareTrainingData: ${data}: neither a .jsonl manifest nor a directory holding manifest.jsonl`, { file: data });
}

/** True when a manifest already is in the prepared form (its first row has measured scores). */
export async function isPrepared(data: string): Promise<boolean> {
  const file = manifestPath(data);
  const first = (await readFile(file, 'utf8')).split('\n').find((l) => l.trim());
  if (!first) return false;
  try {
    const row = JSON.parse(first) as Record<string, unknown>;
    return typeof row.scores === 'object' && row.scores !== null && typeof row.audio === 'string' && 'label' in row;
  } catch {
    return false;
  }
}

function writeVxv(path: string, f: { frames: Uint8Array; count: number; height: number; width: number }): Promise<void> {
  const head = Buffer.alloc(16);
  head.writeUInt32LE(0x56585156, 0);
  head.writeUInt32LE(f.count, 4);
  head.writeUInt32LE(f.height, 8);
  head.writeUInt32LE(f.width, 12);
  return writeFile(path, Buffer.concat([head, Buffer.from(f.frames.buffer, f.frames.byteOffset, f.count * f.height * f.width)]));
}

/** Prepares a labelled manifest for training; see PrepareOptions. */
export async function prepareTrainingData(options: PrepareOptions): Promise<PrepareSummary> {
  const w = 'prepareTrainingData';
  const o = checkOptions<PrepareOptions>(w, options, ['data', 'out', 'valFraction', 'splitSeed', 'video', 'jobs', 'onProgress']);
  if (typeof o.data !== 'string') throw invalid(w, 'data', 'a manifest path or directory', o.data);
  if (typeof o.out !== 'string' || o.out === '') throw invalid(w, 'out', 'an output directory', o.out);
  const valFraction = o.valFraction === undefined ? 0.15 : checkNumber(w, 'valFraction', o.valFraction, { min: 0, max: 0.9 });
  const splitSeed = o.splitSeed === undefined ? 0 : checkInteger(w, 'splitSeed', o.splitSeed, 0, 2 ** 31);
  const jobs = o.jobs === undefined ? 2 : checkInteger(w, 'jobs', o.jobs, 1, 64);
  const video = o.video ?? { fps: 25, width: 64, height: 48 };
  const file = manifestPath(o.data);
  const base = dirname(resolve(file));
  const out = resolve(o.out);
  await mkdir(join(out, 'audio'), { recursive: true });
  await mkdir(join(out, 'video'), { recursive: true });

  const lines = (await readFile(file, 'utf8')).split('\n');
  const rows: Array<{ row: LabelledRow; line: number }> = [];
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    let row: LabelledRow;
    try {
      row = JSON.parse(l) as LabelledRow;
    } catch {
      throw new VoxqcError('ERR_DECODE', `${file}:${i + 1}: not a JSON line`, { file });
    }
    if (!row.label || typeof row.label.grade !== 'string') throw new VoxqcError('ERR_INVALID_ARG', `${file}:${i + 1}: no label.grade (a labelled manifest is needed)`, { file });
    rows.push({ row, line: i + 1 });
  });

  // Rows are appended to manifest.partial.jsonl as they finish, so an interrupted run resumes
  // where it stopped; the final manifest.jsonl is written in input order at the end.
  const partial = join(out, 'manifest.partial.jsonl');
  const finished = new Map<string, string>();
  if (existsSync(partial)) {
    for (const l of (await readFile(partial, 'utf8')).split('\n')) {
      try {
        const r = JSON.parse(l) as { id: string };
        finished.set(r.id, l);
      } catch {
        /* a torn last line: that clip is prepared again */
      }
    }
  }
  const append = createWriteStream(partial, { flags: 'a' });
  const limit = pLimit(jobs);
  const results: Array<{ json: string; speaker: string; split: 'train' | 'val' } | undefined> = new Array(rows.length);
  const errors: PrepareSummary['errors'] = [];
  // The split of a speaker follows from the options (so a resumed run with another split is right).
  const splitOf = (row: LabelledRow, speaker: string): 'train' | 'val' => row.split ?? (isValidationSpeaker(speaker, valFraction, splitSeed) ? 'val' : 'train');
  let done = 0;
  await Promise.all(
    rows.map(({ row, line }, k) =>
      limit(async () => {
        const id = row.id ?? `line${line}`;
        const before = finished.get(id);
        if (before) {
          const r = JSON.parse(before) as { speaker: string; split: string };
          const split = splitOf(row, r.speaker);
          results[k] = { json: split === r.split ? before : JSON.stringify({ ...r, split }), speaker: r.speaker, split };
          o.onProgress?.(++done, rows.length);
          return;
        }
        try {
          const audioRel = row.audio ?? row.audio_filepath;
          if (!audioRel) throw new VoxqcError('ERR_INVALID_ARG', 'no audio path');
          const audioPath = resolve(base, audioRel);
          const videoRel = row.video ?? row.video_filepath;
          const videoPath = videoRel ? resolve(base, videoRel) : undefined;
          const audio = await loadAudio(audioPath, { sampleRate: 16000 });
          // A 16 kHz mono WAV is used where it lies; anything else is written as one.
          let wav = audioPath;
          if (!(extname(audioPath).toLowerCase() === '.wav' && audio.source.sampleRate === 16000 && audio.source.channels === 1)) {
            wav = join(out, 'audio', `${basename(id)}.wav`);
            await writeWav(wav, audio.samples, 16000, 'float32');
          }
          const analysis = await analyze(audio, { ...(row.text !== undefined ? { text: row.text, language: row.language } : {}), ...(videoPath ? { video: videoPath } : {}) });
          let vxv: string | null = null;
          if (videoPath) {
            vxv = join(out, 'video', `${basename(id)}.vxv`);
            await writeVxv(vxv, await decodeMouthFrames(videoPath, video));
          }
          // Speaker of a row: as given; a video whose speaker is only its source counts as its own speaker.
          let speaker = row.speaker ?? id;
          if (videoPath && (!row.speaker || row.speaker === row.source)) {
            const original = row.label!.source?.path ?? videoPath;
            speaker = `${row.source ?? 'video'}:${basename(original, extname(original))}`;
          }
          const split = splitOf(row, speaker);
          const json = JSON.stringify({
            id,
            audio: wav,
            text: row.text ?? null,
            video: vxv,
            videoSource: videoPath ?? null,
            scores: analysis.scores,
            speaker,
            source: row.source ?? null,
            split,
            label: { grade: row.label!.grade, flags: row.label!.flags ?? [], truth: row.label!.truth ?? {}, planted: row.label!.planted ?? [] },
            rules: { grade: analysis.grade, flags: analysis.flags },
          });
          results[k] = { json, speaker, split };
          append.write(json + '\n');
        } catch (err) {
          errors.push({ id, line, message: (err as Error).message });
        }
        o.onProgress?.(++done, rows.length);
      }),
    ),
  );
  await new Promise<void>((res) => append.end(() => res()));
  const manifest = join(out, 'manifest.jsonl');
  const stream = createWriteStream(manifest);
  for (const r of results) if (r) stream.write(r.json + '\n');
  await new Promise<void>((res, rej) => stream.end((err?: Error | null) => (err ? rej(err) : res())));
  const side = (split: 'train' | 'val') => {
    const of = results.filter((r) => r?.split === split);
    return { rows: of.length, speakers: new Set(of.map((r) => r!.speaker)).size };
  };
  return { manifest, rows: results.filter(Boolean).length, errors, train: side('train'), val: side('val') };
}
