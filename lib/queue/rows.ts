// The rows a job carries, and their grading through gradeManifest (the same code path as
// `voxqc grade`): the per-row grading, the error rows and the output row shape are gradeManifest's.
//
// A job carries its rows as readManifest parsed them at submit time (so a worker needs the audio,
// not the manifest). The worker writes the clips of the rows it has to grade into a temporary NeMo
// manifest that gives gradeManifest the very same clips (absolute paths, ids, spans, text,
// language, video, durations), grades it with the worker's grader, and puts each output row back
// on its input row: the input row's own fields and `voxqc.input` (format, index, base, keys,
// columns) replace the temporary ones. Rows that name no clip (unparseable, no audio path…) are
// error rows without any grading, exactly as gradeManifest writes them.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradeManifest, type GradedFields, type GradedInputInfo, type GradedRow } from '../dataset/grade.js';
import { graderFor, type GradeMode } from '../dataset/grader.js';
import type { ManifestRow } from '../dataset/manifest.js';
import type { ClipGrader } from '../grading.js';
import { resolveThresholds } from '../rubric.js';

/** A manifest row as a job carries it (ManifestRow without the CSV header, kept once per job). */
export type JobRow = Omit<ManifestRow, 'columns'>;

export interface JobData {
  run: string;
  chunk: number;
  /** The folder relative paths of the manifest are relative to (voxqc.input.base). */
  base: string;
  /** CSV/TSV header. */
  columns?: string[];
  rows: JobRow[];
}

export function toJobRow(row: ManifestRow): JobRow {
  const { columns: _c, ...rest } = row;
  return rest;
}

function inputInfo(row: JobRow, base: string, columns: string[] | undefined): GradedInputInfo {
  const info: GradedInputInfo = { format: row.format, index: row.index, base };
  if (row.audioKey) info.audioKey = row.audioKey;
  if (row.videoKey) info.videoKey = row.videoKey;
  if (columns && (row.format === 'csv' || row.format === 'tsv')) info.columns = columns;
  if (row.raw !== undefined) info.raw = row.raw;
  return info;
}

/** The output row: the input row's fields, then `voxqc` (its `input` replaced by the real one). */
function attach(row: JobRow, v: GradedFields, input: GradedInputInfo): GradedRow {
  const { voxqc: _old, ...rest } = row.row ?? {};
  return { ...rest, voxqc: { ...v, input } } as GradedRow;
}

/** The temporary NeMo line that gives readManifest the same clip as `row`. */
function nemoLine(row: JobRow): string {
  const clip = row.clip!;
  const rec: Record<string, unknown> = { id: clip.id, audio_filepath: clip.audio };
  if (clip.offsetSec !== undefined) {
    rec.offset = clip.offsetSec;
    if (clip.durationSec !== undefined) rec.duration = clip.durationSec;
  } else if (row.durationSec !== undefined) {
    rec.duration = row.durationSec;
  }
  if (clip.text !== undefined) rec.text = clip.text;
  if (clip.language !== undefined) rec.language = clip.language;
  if (clip.video !== undefined) rec.video_filepath = clip.video;
  return JSON.stringify(rec);
}

const TEMP_KEYS = { audio: 'audio_filepath', text: 'text', video: 'video_filepath', id: 'id', offset: 'offset', duration: 'duration', language: 'language' };

export interface GradeRowsOptions {
  grader?: ClipGrader;
  mode?: GradeMode;
  concurrency: number;
  thresholds?: Record<string, unknown>;
  signal?: AbortSignal;
  /** Each output row as it is finished. */
  onRow: (row: GradedRow) => void;
  /** Called (and awaited) just before the grader is given a row's clip. */
  beforeClip?: (row: JobRow) => Promise<void>;
}

/** The error row of a row that is not graded: as gradeManifest writes a failed row (without ms). */
export function errorRow(data: Pick<JobData, 'base' | 'columns'>, row: JobRow, error: { code: string; message: string }): GradedRow {
  const v = { id: row.id, error } as GradedFields;
  if (row.clip) {
    v.audio = row.clip.audio;
    if (row.clip.offsetSec !== undefined) v.offsetSec = row.clip.offsetSec;
    if (row.clip.durationSec !== undefined) v.durationSec = row.clip.durationSec;
  }
  const audioSec = row.clip?.durationSec ?? row.durationSec;
  if (audioSec !== undefined && Number.isFinite(audioSec)) v.audioSec = audioSec;
  return attach(row, v, inputInfo(row, data.base, data.columns));
}

/**
 * Grades `rows` (of one job) with gradeManifest and hands each output row to onRow. Resolves
 * with whether the run was stopped by the signal. Throws what gradeManifest throws (the native
 * core missing, a grader that cannot run at all).
 */
export async function gradeRows(data: Pick<JobData, 'base' | 'columns'>, rows: JobRow[], o: GradeRowsOptions): Promise<{ aborted: boolean }> {
  const clips: JobRow[] = [];
  for (const row of rows) {
    if (row.error || !row.clip) {
      // As gradeManifest writes a row that names no clip: no grading, no span, no time.
      o.onRow(errorRow(data, row, row.error ?? { code: 'ERR_INVALID_ARG', message: 'no clip' }));
    } else {
      clips.push(row);
    }
  }
  if (clips.length === 0) return { aborted: false };
  // The grader: the worker's, else the mode's (whose thresholds are checked once, here, as
  // gradeManifest does), wrapped to know which row each call is for.
  const base = o.grader ?? graderFor(o.mode);
  if (!o.grader && o.thresholds) resolveThresholds(o.thresholds, 'thresholds');
  let grader = base;
  if (o.beforeClip) {
    // gradeManifest calls the grader in row order: the k-th call for an id is the k-th row with it.
    const byId = new Map<string, JobRow[]>();
    for (const r of clips) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
    const before = o.beforeClip;
    grader = async (clip, options) => {
      const row = byId.get(clip.id)?.shift();
      if (row) await before(row);
      return base(clip, options);
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'voxqc-job-'));
  try {
    const manifest = join(dir, 'chunk.jsonl');
    await writeFile(manifest, clips.map(nemoLine).join('\n') + '\n');
    const summary = await gradeManifest(manifest, {
      out: join(dir, 'graded.jsonl'),
      grader,
      concurrency: o.concurrency,
      resume: false,
      count: false,
      fsync: 'end',
      format: 'nemo',
      keys: TEMP_KEYS,
      ...(o.thresholds ? { thresholds: o.thresholds } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      onRow: (graded) => {
        const row = clips[graded.voxqc.input.index]!;
        o.onRow(attach(row, graded.voxqc, inputInfo(row, data.base, data.columns)));
      },
    });
    return { aborted: summary.aborted };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
