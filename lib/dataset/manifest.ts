// Manifest readers: NeMo-style JSONL, CSV/TSV with a header, lhotse cut and recording manifests
// (.jsonl or .jsonl.gz) and directories. Every reader streams: rows are yielded one at a time,
// nothing holds the manifest in memory.
import { opendir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parse as parseCsv } from 'csv-parse';
import { AUDIO_EXTENSIONS } from '../commands/describe.js';
import { VoxqcError } from '../errors.js';
import type { ClipInput } from '../grading.js';
import { invalid } from '../validate.js';
import { openBytes, readLines } from './lines.js';

export type ManifestFormat = 'nemo' | 'csv' | 'tsv' | 'lhotse-cuts' | 'lhotse-recordings' | 'dir';
export const MANIFEST_FORMATS: readonly ManifestFormat[] = ['nemo', 'csv', 'tsv', 'lhotse-cuts', 'lhotse-recordings', 'dir'];

/** Which keys (columns) of a row hold what. Each lists candidates, the first present wins. */
export interface ManifestKeys {
  audio: string[];
  text: string[];
  video: string[];
  id: string[];
  offset: string[];
  duration: string[];
  language: string[];
}

export const DEFAULT_KEYS: ManifestKeys = {
  audio: ['audio_filepath', 'audio', 'path'],
  text: ['text', 'transcript'],
  video: ['video_filepath', 'video'],
  id: ['id', 'utt_id'],
  offset: ['offset'],
  duration: ['duration'],
  language: ['language', 'lang'],
};

/** Keys given by the caller: a key name or a list of candidates, per role. */
export type ManifestKeyOptions = Partial<Record<keyof ManifestKeys, string | string[]>>;

export function resolveKeys(where: string, keys: unknown): ManifestKeys {
  if (keys === undefined) return DEFAULT_KEYS;
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) throw invalid(where, 'keys', 'an object', keys);
  const out: ManifestKeys = { ...DEFAULT_KEYS };
  for (const [role, value] of Object.entries(keys)) {
    if (!(role in DEFAULT_KEYS)) {
      throw new VoxqcError(
        'ERR_INVALID_ARG',
        `${where}: unknown key role '${role}' in keys (known: ${Object.keys(DEFAULT_KEYS).join(', ')})`,
      );
    }
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || list.length === 0 || !list.every((k) => typeof k === 'string' && k.length > 0)) {
      throw invalid(where, `keys.${role}`, 'a key name or a non-empty array of key names', value);
    }
    out[role as keyof ManifestKeys] = list as string[];
  }
  return out;
}

/** Parses the CLI's `--keys audio=wav,text=sentence|words`. */
export function parseKeysOption(spec: string): ManifestKeyOptions {
  const out: Record<string, string[]> = {};
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) {
      throw new VoxqcError('ERR_INVALID_ARG', `--keys: expected role=key pairs like 'audio=wav,text=sentence', received '${spec}'`);
    }
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).split('|').map((k) => k.trim());
  }
  return out as ManifestKeyOptions;
}

/** One row of a manifest, with the clip it describes (or why it describes none). */
export interface ManifestRow {
  /** 0-based position of the row in the manifest (data rows; headers and blank lines not counted). */
  index: number;
  format: ManifestFormat;
  /** The row as read (for CSV/TSV: column → string); null when it could not be parsed. */
  row: Record<string, unknown> | null;
  /** The raw line, when it could not be parsed. */
  raw?: string;
  /** Stable id (the row's id key, else its audio path as written, plus '@offset' for a segment). */
  id: string;
  clip?: ClipInput;
  /** Why the row is no clip (unparseable, no audio path, unsupported source…). */
  error?: { code: string; message: string };
  /** Seconds of audio the row stands for, when the manifest says. */
  durationSec?: number;
  /** The key that holds the audio path (for NeMo/CSV/TSV/dir rows). */
  audioKey?: string;
  videoKey?: string;
  /** CSV/TSV: the header, in order. */
  columns?: string[];
}

export interface ReadManifestOptions {
  format?: ManifestFormat;
  keys?: ManifestKeyOptions;
}

/** What a path names: a directory or a manifest format (guessed from the name; JSONL is refined by content). */
export async function detectFormat(input: string): Promise<ManifestFormat | 'jsonl'> {
  let st;
  try {
    st = await stat(input);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new VoxqcError('ERR_NOT_FOUND', `${input}: no such manifest file or directory`, { file: input });
    }
    throw err;
  }
  if (st.isDirectory()) return 'dir';
  const name = input.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.tsv') || name.endsWith('.tab')) return 'tsv';
  return 'jsonl';
}

/** Streams the rows of a manifest (any supported format). */
export async function* readManifest(input: string, options: ReadManifestOptions = {}): AsyncGenerator<ManifestRow> {
  const keys = resolveKeys('readManifest', options.keys);
  if (options.format !== undefined && !MANIFEST_FORMATS.includes(options.format)) {
    throw invalid('readManifest', 'format', `one of ${MANIFEST_FORMATS.join(', ')}`, options.format);
  }
  const detected = await detectFormat(input);
  const format = options.format ?? detected;
  const abs = resolve(input);
  if (format === 'dir') {
    if (detected !== 'dir') throw new VoxqcError('ERR_INVALID_ARG', `${input}: format 'dir' needs a directory`);
    yield* readDirectory(abs, keys);
  } else if (detected === 'dir') {
    throw new VoxqcError('ERR_INVALID_ARG', `${input}: is a directory, but format '${format}' was asked for`);
  } else if (format === 'csv' || format === 'tsv') {
    yield* readDelimited(abs, format, keys);
  } else {
    yield* readJsonl(abs, format === 'jsonl' ? undefined : format, keys);
  }
}

// --- JSONL: NeMo and lhotse ----------------------------------------------------------------------

function lhotseKind(obj: Record<string, unknown>): ManifestFormat | undefined {
  if (Array.isArray(obj.sources) && 'sampling_rate' in obj) return 'lhotse-recordings';
  if (typeof obj.type === 'string' && /Cut$/.test(obj.type)) return 'lhotse-cuts';
  if (('recording' in obj || 'recording_id' in obj) && 'start' in obj && 'duration' in obj) return 'lhotse-cuts';
  return undefined;
}

async function* readJsonl(abs: string, fixed: ManifestFormat | undefined, keys: ManifestKeys): AsyncGenerator<ManifestRow> {
  const base = dirname(abs);
  let format = fixed;
  let index = 0;
  let lineNo = 0;
  for await (const line of readLines(openBytes(abs))) {
    lineNo++;
    if (line.text.trim() === '') continue;
    const i = index++;
    let obj: unknown;
    try {
      obj = JSON.parse(line.text);
    } catch (err) {
      yield badRow(i, format ?? 'nemo', line.text, `line ${lineNo}: not valid JSON (${(err as Error).message})`);
      continue;
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      yield badRow(i, format ?? 'nemo', line.text, `line ${lineNo}: expected a JSON object`);
      continue;
    }
    const rec = obj as Record<string, unknown>;
    format ??= lhotseKind(rec) ?? 'nemo';
    if (format === 'lhotse-recordings') yield lhotseRecordingRow(i, rec, base);
    else if (format === 'lhotse-cuts') yield lhotseCutRow(i, rec, base);
    else yield keyedRow(i, 'nemo', rec, base, keys);
  }
}

function badRow(index: number, format: ManifestFormat, raw: string, message: string): ManifestRow {
  return { index, format, row: null, raw, id: `#${index}`, error: { code: 'ERR_INVALID_ARG', message } };
}

function pick(rec: Record<string, unknown>, candidates: string[]): [string, unknown] | undefined {
  for (const k of candidates) {
    const v = rec[k];
    if (v !== undefined && v !== null && v !== '') return [k, v];
  }
  return undefined;
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return undefined;
}

function locate(base: string, p: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

/** A NeMo / CSV / TSV / directory row: keys name the fields. */
function keyedRow(index: number, format: ManifestFormat, rec: Record<string, unknown>, base: string, keys: ManifestKeys, columns?: string[]): ManifestRow {
  const audio = pick(rec, keys.audio);
  const idv = pick(rec, keys.id);
  const offsetV = pick(rec, keys.offset);
  const durationV = pick(rec, keys.duration);
  const offset = offsetV ? toNumber(offsetV[1]) : undefined;
  const duration = durationV ? toNumber(durationV[1]) : undefined;
  const out: ManifestRow = { index, format, row: rec, id: '', ...(columns ? { columns } : {}) };
  if (duration !== undefined && Number.isFinite(duration) && duration > 0) out.durationSec = duration;
  if (!audio || typeof audio[1] !== 'string') {
    out.id = idv ? String(idv[1]) : `#${index}`;
    out.error = {
      code: 'ERR_INVALID_ARG',
      message: `row ${index + 1}: no audio path (looked for ${keys.audio.map((k) => `'${k}'`).join(', ')})`,
    };
    return out;
  }
  const [audioKey, audioPath] = audio as [string, string];
  out.audioKey = audioKey;
  out.id = idv ? String(idv[1]) : offset !== undefined ? `${audioPath}@${offset}` : audioPath;
  if (offsetV && (offset === undefined || !Number.isFinite(offset) || offset < 0)) {
    out.error = { code: 'ERR_INVALID_ARG', message: `row ${index + 1}: '${offsetV[0]}' must be a number ≥ 0, got ${JSON.stringify(offsetV[1])}` };
    return out;
  }
  if (offsetV && durationV && (duration === undefined || !Number.isFinite(duration) || duration <= 0)) {
    out.error = { code: 'ERR_INVALID_ARG', message: `row ${index + 1}: '${durationV[0]}' must be a number > 0, got ${JSON.stringify(durationV[1])}` };
    return out;
  }
  const clip: ClipInput = { id: out.id, audio: locate(base, audioPath) };
  // A segment is a row with an offset: then the duration bounds it. Without an offset, the
  // duration (NeMo's, always present) describes the whole file and is not used to cut it.
  if (offset !== undefined) {
    clip.offsetSec = offset;
    if (duration !== undefined) clip.durationSec = duration;
  }
  const text = pick(rec, keys.text);
  if (text && typeof text[1] === 'string') clip.text = text[1];
  const lang = pick(rec, keys.language);
  if (lang && typeof lang[1] === 'string' && /^[a-z]{2,3}([-_][A-Za-z]+)?$/i.test(lang[1])) clip.language = lang[1];
  const video = pick(rec, keys.video);
  if (video && typeof video[1] === 'string') {
    clip.video = locate(base, video[1]);
    out.videoKey = video[0];
  }
  out.clip = clip;
  return out;
}

type LhotseSource = { type?: unknown; source?: unknown; channels?: unknown };

function lhotseAudio(rec: Record<string, unknown>, what: string): { path?: string; error?: string } {
  const sources = rec.sources;
  if (!Array.isArray(sources) || sources.length === 0) return { error: `${what}: no sources` };
  const src = sources[0] as LhotseSource;
  if (src.type !== undefined && src.type !== 'file') {
    return { error: `${what}: source type '${String(src.type)}' is not supported (only 'file' sources are graded)` };
  }
  if (typeof src.source !== 'string') return { error: `${what}: sources[0].source is not a path` };
  return { path: src.source };
}

function lhotseRecordingRow(index: number, rec: Record<string, unknown>, base: string): ManifestRow {
  const id = typeof rec.id === 'string' ? rec.id : `#${index}`;
  const out: ManifestRow = { index, format: 'lhotse-recordings', row: rec, id };
  const d = toNumber(rec.duration);
  if (d !== undefined && d > 0) out.durationSec = d;
  const a = lhotseAudio(rec, `recording '${id}'`);
  if (a.error) out.error = { code: a.error.includes('not supported') ? 'ERR_UNSUPPORTED' : 'ERR_INVALID_ARG', message: a.error };
  else out.clip = { id, audio: locate(base, a.path!) };
  return out;
}

function lhotseCutRow(index: number, rec: Record<string, unknown>, base: string): ManifestRow {
  const id = typeof rec.id === 'string' ? rec.id : `#${index}`;
  const out: ManifestRow = { index, format: 'lhotse-cuts', row: rec, id };
  const start = toNumber(rec.start) ?? 0;
  const duration = toNumber(rec.duration);
  if (duration !== undefined && duration > 0) out.durationSec = duration;
  if (typeof rec.type === 'string' && rec.type !== 'MonoCut' && rec.type !== 'Cut') {
    out.error = { code: 'ERR_UNSUPPORTED', message: `cut '${id}': ${rec.type} is not supported (grade the recordings it is made of)` };
    return out;
  }
  const recording = rec.recording;
  if (typeof recording !== 'object' || recording === null) {
    out.error = {
      code: 'ERR_INVALID_ARG',
      message: `cut '${id}': no embedded recording (write the cuts with their recordings, e.g. CutSet.from_manifests(...).to_file)`,
    };
    return out;
  }
  const a = lhotseAudio(recording as Record<string, unknown>, `cut '${id}'`);
  if (a.error) {
    out.error = { code: a.error.includes('not supported') ? 'ERR_UNSUPPORTED' : 'ERR_INVALID_ARG', message: a.error };
    return out;
  }
  const clip: ClipInput = { id, audio: locate(base, a.path!), offsetSec: start };
  if (duration !== undefined && duration > 0) clip.durationSec = duration;
  const sups = Array.isArray(rec.supervisions) ? (rec.supervisions as Record<string, unknown>[]) : [];
  const text = sups.map((s) => (typeof s?.text === 'string' ? s.text : '')).filter(Boolean).join(' ');
  if (text) clip.text = text;
  const lang = sups.find((s) => typeof s?.language === 'string')?.language as string | undefined;
  if (lang && /^[a-z]{2,3}([-_][A-Za-z]+)?$/i.test(lang)) clip.language = lang;
  out.clip = clip;
  return out;
}

// --- CSV / TSV ------------------------------------------------------------------------------------

async function* readDelimited(abs: string, format: 'csv' | 'tsv', keys: ManifestKeys): AsyncGenerator<ManifestRow> {
  const base = dirname(abs);
  let columns: string[] | undefined;
  const parser = openBytes(abs).pipe(
    parseCsv({
      delimiter: format === 'tsv' ? '\t' : ',',
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      relax_quotes: format === 'tsv',
      columns: (header: string[]) => {
        columns = header.map((h) => h.trim());
        return columns;
      },
    }),
  );
  let index = 0;
  try {
    for await (const rec of parser as AsyncIterable<Record<string, string>>) {
      yield keyedRow(index, format, rec, base, keys, columns);
      index++;
    }
  } catch (err) {
    if (err instanceof VoxqcError) throw err;
    throw new VoxqcError('ERR_INVALID_ARG', `${abs}: cannot read as ${format.toUpperCase()} after row ${index}: ${(err as Error).message}`, {
      file: abs,
      cause: err,
    });
  }
}

// --- directories ----------------------------------------------------------------------------------

/** Audio files under `dir`, recursively, in a stable (sorted per folder) order, streamed. */
async function* walk(dir: string): AsyncGenerator<string> {
  const handle = await opendir(dir);
  const names: { name: string; isDir: boolean }[] = [];
  for await (const e of handle) {
    if (e.isDirectory()) names.push({ name: e.name, isDir: true });
    else if (e.isFile() && AUDIO_EXTENSIONS.has(e.name.slice(e.name.lastIndexOf('.')).toLowerCase())) names.push({ name: e.name, isDir: false });
  }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const n of names) {
    const p = join(dir, n.name);
    if (n.isDir) yield* walk(p);
    else yield p;
  }
}

async function* readDirectory(abs: string, keys: ManifestKeys): AsyncGenerator<ManifestRow> {
  let index = 0;
  for await (const file of walk(abs)) {
    const rel = relative(abs, file).split(sep).join('/');
    yield keyedRow(index++, 'dir', { audio_filepath: rel }, abs, { ...keys, audio: ['audio_filepath'] });
  }
}
