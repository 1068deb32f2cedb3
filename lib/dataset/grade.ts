// gradeManifest: grade every clip of a manifest into a JSONL output, streaming, many clips at once,
// resumable after any crash, shardable.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { dirname, relative, resolve, sep, isAbsolute } from 'node:path';
import { VoxqcError } from '../errors.js';
import { GRADES, type ClipGrader, type ClipResult, type Grade } from '../grading.js';
import { resolveThresholds } from '../rubric.js';
import { getConfig } from '../runtime.js';
import { checkBoolean, checkInteger, checkNumber, checkOneOf, checkOptions, invalid } from '../validate.js';
import { graderFor, type GradeMode } from './grader.js';
import { readManifest, resolveKeys, type ManifestFormat, type ManifestKeyOptions, type ManifestRow, MANIFEST_FORMATS } from './manifest.js';
import { LineWriter, scanOutput, type FsyncPolicy } from './output.js';
import { inShard, parseShard, type Shard } from './shard.js';

/** What the output row records about where it came from (filter writes the input format back). */
export interface GradedInputInfo {
  format: ManifestFormat;
  /** Row index in the manifest (0-based). */
  index: number;
  /** Absolute folder that relative paths in the row are relative to (the manifest's folder). */
  base: string;
  audioKey?: string;
  videoKey?: string;
  /** CSV/TSV header, in order. */
  columns?: string[];
  /** The line, when it was not valid JSON. */
  raw?: string;
}

/** The `voxqc` object added to each output row. */
export interface GradedFields {
  id: string;
  grade?: Grade;
  flags?: string[];
  scores?: Record<string, number | boolean | null>;
  model?: ClipResult['model'];
  rules?: ClipResult['rules'];
  error?: { code: string; message: string };
  /** Absolute path of the audio graded, and the span. */
  audio?: string;
  offsetSec?: number;
  durationSec?: number;
  /** Seconds of audio the row stands for (span, else manifest duration, else the grader's durationSec score). */
  audioSec?: number;
  /** Wall time of the grader on this clip (decode included), ms. */
  ms?: number;
  input: GradedInputInfo;
}

export type GradedRow = Record<string, unknown> & { voxqc: GradedFields };

export interface GradeProgress {
  /** Rows finished in this run (graded or failed). */
  done: number;
  failed: number;
  /** Rows found already done in the output (resume). */
  skipped: number;
  /** Rows this run has to do, when counted first (count: true). */
  total?: number;
  /** Seconds of audio finished in this run, and in all when known. */
  audioSec: number;
  totalAudioSec?: number;
  elapsedSec: number;
  /** Audio seconds per wall second. */
  xRealTime: number;
  /** Estimated seconds left, when total is known. */
  etaSec?: number;
  inFlight: number;
}

export interface GradeManifestOptions {
  /** The output JSONL. Appended to (resume) when it exists. */
  out: string;
  /** The grader; default: the rule grader of `mode`. */
  grader?: ClipGrader;
  /** 'rules' (default) or 'model' (the learned grader in models/grader, or $VOXQC_MODEL). Ignored with `grader`. */
  mode?: GradeMode;
  /** Clips graded at once. Default: configure()'s concurrency. */
  concurrency?: number;
  /** 'i/n' (1-based) or { index, count, by }. */
  shard?: string | Shard;
  /** true (default): skip rows already in `out`. false: start over (truncates `out`). */
  resume?: boolean;
  /** On resume, grade again the rows that failed before (their error rows are removed). */
  retryErrors?: boolean;
  /** Write rows in manifest order (buffers finished rows behind a slow one). Default false:
   *  rows are written as they finish; voxqc.input.index gives the manifest order. */
  ordered?: boolean;
  /** How often the output is flushed to the device (see output.ts). Default 'interval'. */
  fsync?: FsyncPolicy;
  /** Count the rows to do first, for progress totals and ETA. Default true. */
  count?: boolean;
  /** Manifest format (default: from the name and the first row). */
  format?: ManifestFormat;
  keys?: ManifestKeyOptions;
  /** Passed to the grader with each clip. */
  thresholds?: Record<string, unknown>;
  /** Time limit per clip (seconds): a clip still grading after it gets an ERR_TIMEOUT error row,
   *  and the grader's signal is aborted (an ffmpeg decode is killed). Default: none. */
  clipTimeoutSec?: number;
  /** Confine audio and video paths to this folder: a path that resolves outside it (through
   *  `..`, an absolute path or a symbolic link) gets an ERR_INVALID_ARG error row, unread. */
  root?: string;
  signal?: AbortSignal;
  onProgress?: (progress: GradeProgress) => void;
  /** Each row as it is written. */
  onRow?: (row: GradedRow) => void;
}

export interface GradeSummary {
  out: string;
  /** Rows of the manifest in this shard. */
  rows: number;
  /** Rows graded or failed in this run. */
  done: number;
  /** Rows that failed in this run. */
  failed: number;
  /** Rows skipped because the output already had them. */
  skipped: number;
  /** Rows of the manifest outside this shard. */
  outsideShard: number;
  /** The whole output (earlier runs included): rows, failures, grades, error codes, audio. */
  output: { rows: number; failed: number; byGrade: Record<Grade, number>; errors: Record<string, number>; audioSec: number };
  /** Audio seconds finished in this run, wall seconds, and their ratio. */
  audioSec: number;
  elapsedSec: number;
  xRealTime: number;
  /** What the resume scan repaired in the existing output. */
  repaired: { truncatedBytes: number; droppedLines: number; droppedErrorRows: number };
  /** True when stopped by the signal before the end. */
  aborted: boolean;
}

const KNOWN = [
  'out', 'grader', 'mode', 'concurrency', 'shard', 'resume', 'retryErrors', 'ordered', 'fsync', 'count', 'format', 'keys',
  'thresholds', 'signal', 'onProgress', 'onRow', 'clipTimeoutSec', 'root',
] as const;

function validateResult(r: unknown): string | undefined {
  if (typeof r !== 'object' || r === null) return 'not an object';
  const x = r as Partial<ClipResult>;
  if (!GRADES.includes(x.grade as Grade)) return `grade ${JSON.stringify(x.grade)} is not one of ${GRADES.join(', ')}`;
  if (!Array.isArray(x.flags) || !x.flags.every((f) => typeof f === 'string')) return 'flags is not an array of strings';
  if (typeof x.scores !== 'object' || x.scores === null || Array.isArray(x.scores)) return 'scores is not an object';
  return undefined;
}

function errorOf(err: unknown): { code: string; message: string } {
  if (err instanceof VoxqcError) return { code: err.code, message: err.message };
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' && /^ERR_[A-Z_]+$/.test(e.code) ? e.code : 'ERR_GRADER';
  return { code, message: typeof e?.message === 'string' ? e.message : String(err) };
}

function inputInfo(row: ManifestRow, base: string): GradedInputInfo {
  const info: GradedInputInfo = { format: row.format, index: row.index, base };
  if (row.audioKey) info.audioKey = row.audioKey;
  if (row.videoKey) info.videoKey = row.videoKey;
  if (row.columns) info.columns = row.columns;
  if (row.raw !== undefined) info.raw = row.raw;
  return info;
}

/** Why a clip's audio or video path is outside `root` (a real path), or undefined when inside.
 *  Symbolic links are followed: a link inside root to a file outside is outside. */
async function outsideRoot(root: string, clip: { audio: string; video?: string }): Promise<string | undefined> {
  for (const [what, p] of [['audio', clip.audio], ['video', clip.video]] as const) {
    if (p === undefined) continue;
    let real: string;
    try {
      real = await realpath(p);
    } catch {
      // Not there (or unreadable): judge the path as written; reading it will say what is wrong.
      real = resolve(p);
    }
    const rel = relative(root, real);
    if (rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel))) continue;
    return `${what} path ${p}${real !== p ? ` (${real})` : ''} is outside the root folder ${root}; it was not read`;
  }
  return undefined;
}

/** Rows of `input` this run must do: in the shard, not already done. Counted without grading. */
async function countTodo(input: string, o: { format?: ManifestFormat; keys?: ManifestKeyOptions; shard?: Shard }, isDone: (id: string) => boolean) {
  let rows = 0;
  let audioSec = 0;
  let allKnown = true;
  for await (const row of readManifest(input, { format: o.format, keys: o.keys })) {
    if (!inShard(o.shard, row.index, row.id) || isDone(row.id)) continue;
    rows++;
    const d = row.clip?.durationSec ?? row.durationSec;
    if (d === undefined) allKnown = false;
    else audioSec += d;
  }
  return { rows, audioSec: allKnown ? audioSec : undefined };
}

/**
 * Grades every clip of a manifest (NeMo JSONL, CSV/TSV, lhotse cuts or recordings, or a folder)
 * and appends one row per input row to `out`: the input row plus `voxqc: { id, grade, flags,
 * scores, model?, ... }`, or `voxqc: { id, error: { code, message }, ... }` for a clip that could
 * not be graded. The run goes on past failed clips. Rerunning with the same `out` skips the rows
 * already there (by id: the row's id key, else path + offset).
 */
export async function gradeManifest(input: string, options: GradeManifestOptions): Promise<GradeSummary> {
  const where = 'gradeManifest';
  if (typeof input !== 'string' || input === '') throw invalid(where, 'input', 'a manifest path or a folder', input);
  const o = checkOptions<GradeManifestOptions>(where, options, KNOWN);
  if (typeof o.out !== 'string' || o.out === '') throw invalid(where, 'out', 'an output file path', o.out);
  const out = resolve(o.out);
  if (existsSync(out) && statSync(out).isDirectory()) throw invalid(where, 'out', 'a file path, not a folder', o.out);
  if (out === resolve(input)) throw invalid(where, 'out', 'a file other than the manifest', o.out);
  if (/\.gz$/i.test(out)) throw invalid(where, 'out', 'a plain .jsonl path (the output is appended row by row; gzip it after the run)', o.out);
  if (!existsSync(dirname(out))) throw new VoxqcError('ERR_NOT_FOUND', `${where}: the folder of out (${dirname(out)}) does not exist`);
  if (o.grader !== undefined && typeof o.grader !== 'function') throw invalid(where, 'grader', 'a function (a ClipGrader)', o.grader);
  if (o.mode !== undefined) checkOneOf(where, 'mode', o.mode, ['rules', 'model'] as const);
  const grader = o.grader ?? graderFor(o.mode);
  const concurrency = o.concurrency === undefined ? getConfig().concurrency : checkInteger(where, 'concurrency', o.concurrency, 1, 1024);
  const shard = parseShard(where, o.shard);
  const resume = o.resume === undefined ? true : checkBoolean(where, 'resume', o.resume);
  const retryErrors = o.retryErrors === undefined ? false : checkBoolean(where, 'retryErrors', o.retryErrors);
  const ordered = o.ordered === undefined ? false : checkBoolean(where, 'ordered', o.ordered);
  const fsync = o.fsync === undefined ? 'interval' : checkOneOf(where, 'fsync', o.fsync, ['row', 'interval', 'end'] as const);
  const count = o.count === undefined ? true : checkBoolean(where, 'count', o.count);
  if (o.format !== undefined) checkOneOf(where, 'format', o.format, MANIFEST_FORMATS);
  resolveKeys(where, o.keys);
  if (o.thresholds !== undefined && (typeof o.thresholds !== 'object' || o.thresholds === null)) throw invalid(where, 'thresholds', 'an object', o.thresholds);
  // The rule grader's thresholds are checked here, once, rather than failing every clip.
  if (o.thresholds !== undefined && o.grader === undefined) resolveThresholds(o.thresholds, `${where}: thresholds`);
  for (const cb of ['onProgress', 'onRow'] as const) if (o[cb] !== undefined && typeof o[cb] !== 'function') throw invalid(where, cb, 'a function', o[cb]);
  const clipTimeoutSec = o.clipTimeoutSec === undefined ? undefined : checkNumber(where, 'clipTimeoutSec', o.clipTimeoutSec, { min: 0, minExclusive: true });
  let root: string | undefined;
  if (o.root !== undefined) {
    if (typeof o.root !== 'string' || o.root === '') throw invalid(where, 'root', 'a folder path', o.root);
    root = await realpath(o.root).catch((err: NodeJS.ErrnoException) => {
      throw new VoxqcError('ERR_NOT_FOUND', `${where}: root ${o.root}: ${err.code === 'ENOENT' ? 'no such folder' : err.message}`, { file: o.root });
    });
    if (!statSync(root).isDirectory()) throw invalid(where, 'root', 'a folder', o.root);
  }

  // Resume: what the output already holds (torn tail repaired).
  if (!resume) writeFileSync(out, '');
  const scan = await scanOutput(out, { retryErrors });
  const baseDir = await stat(input).then(
    (s) => (s.isDirectory() ? resolve(input) : dirname(resolve(input))),
    () => dirname(resolve(input)),
  );

  const started = performance.now();
  let total: { rows: number; audioSec?: number } | undefined;
  if (count) {
    const probe = scan.done.size > 0 ? scan.done.clone() : undefined;
    total = await countTodo(input, { format: o.format, keys: o.keys, shard }, (id) => (probe ? probe.take(id) : false));
  }

  const controller = new AbortController();
  const onAbort = () => controller.abort(o.signal?.reason);
  if (o.signal?.aborted) controller.abort(o.signal.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });

  const writer = new LineWriter(out, fsync);
  const summary: GradeSummary = {
    out,
    rows: 0,
    done: 0,
    failed: 0,
    skipped: 0,
    outsideShard: 0,
    output: {
      rows: scan.rows,
      failed: scan.failed,
      byGrade: { high: scan.byGrade.high ?? 0, medium: scan.byGrade.medium ?? 0, low: scan.byGrade.low ?? 0 },
      errors: { ...scan.errors },
      audioSec: scan.audioSec,
    },
    audioSec: 0,
    elapsedSec: 0,
    xRealTime: 0,
    repaired: scan.repaired,
    aborted: false,
  };
  const inFlight = new Set<Promise<void>>();

  const progress = (): GradeProgress => {
    const elapsedSec = (performance.now() - started) / 1000;
    const p: GradeProgress = {
      done: summary.done,
      failed: summary.failed,
      skipped: summary.skipped,
      audioSec: summary.audioSec,
      elapsedSec,
      xRealTime: elapsedSec > 0 ? summary.audioSec / elapsedSec : 0,
      inFlight: inFlight.size,
    };
    if (total) {
      p.total = total.rows;
      if (total.audioSec !== undefined) p.totalAudioSec = total.audioSec;
      if (summary.done > 0) {
        const left =
          total.audioSec !== undefined && summary.audioSec > 0
            ? (elapsedSec / summary.audioSec) * Math.max(0, total.audioSec - summary.audioSec)
            : (elapsedSec / summary.done) * Math.max(0, total.rows - summary.done);
        p.etaSec = left;
      }
    }
    return p;
  };

  // Ordered output: finished rows wait here until every earlier row is written.
  const pending = new Map<number, GradedRow | null>();
  let nextSeq = 0;
  const emit = (seq: number, row: GradedRow | null) => {
    if (!ordered) {
      if (row) writeRow(row);
      return;
    }
    pending.set(seq, row);
    while (pending.has(nextSeq)) {
      const r = pending.get(nextSeq);
      pending.delete(nextSeq++);
      if (r) writeRow(r);
    }
  };
  const writeRow = (row: GradedRow) => {
    writer.write(JSON.stringify(row));
    const v = row.voxqc;
    summary.done++;
    summary.output.rows++;
    if (v.audioSec !== undefined) {
      summary.audioSec += v.audioSec;
      summary.output.audioSec += v.audioSec;
    }
    if (v.error) {
      summary.failed++;
      summary.output.failed++;
      summary.output.errors[v.error.code] = (summary.output.errors[v.error.code] ?? 0) + 1;
    } else if (v.grade) {
      summary.output.byGrade[v.grade]++;
    }
    o.onRow?.(row);
    o.onProgress?.(progress());
  };

  const gradeRow = async (row: ManifestRow, first: boolean): Promise<GradedRow | null> => {
    const fields: GradedFields = { id: row.id, input: inputInfo(row, baseDir) };
    const finish = (extra: Partial<GradedFields>): GradedRow => {
      const v: GradedFields = { id: row.id, ...extra } as GradedFields;
      if (row.clip) {
        v.audio = row.clip.audio;
        if (row.clip.offsetSec !== undefined) v.offsetSec = row.clip.offsetSec;
        if (row.clip.durationSec !== undefined) v.durationSec = row.clip.durationSec;
      }
      const fromScores = extra.scores?.durationSec;
      const audioSec = row.clip?.durationSec ?? row.durationSec ?? (typeof fromScores === 'number' ? fromScores : undefined);
      if (audioSec !== undefined && Number.isFinite(audioSec)) v.audioSec = audioSec;
      if (extra.ms !== undefined) v.ms = extra.ms;
      v.input = fields.input;
      const { voxqc: _old, ...rest } = row.row ?? {};
      return { ...rest, voxqc: v } as GradedRow;
    };
    if (row.error || !row.clip) return finish({ error: row.error ?? { code: 'ERR_INVALID_ARG', message: 'no clip' } });
    if (root) {
      const outside = await outsideRoot(root, row.clip);
      if (outside) return finish({ error: { code: 'ERR_INVALID_ARG', message: `row ${row.index + 1}: ${outside}` } });
    }
    const t0 = performance.now();
    let result: ClipResult;
    // The clip's own signal: the run's, plus its time limit.
    const clipController = new AbortController();
    const onRunAbort = () => clipController.abort(controller.signal.reason);
    controller.signal.addEventListener('abort', onRunAbort, { once: true });
    let limitTimer: NodeJS.Timeout | undefined;
    try {
      const graderOptions = { signal: clipController.signal, ...(o.thresholds ? { thresholds: o.thresholds } : {}) };
      const graded = grader(row.clip, graderOptions);
      if (clipTimeoutSec === undefined) {
        result = await graded;
      } else {
        const limit = new Promise<never>((_, reject) => {
          limitTimer = setTimeout(() => {
            const err = new VoxqcError('ERR_TIMEOUT', `${row.clip!.audio}: grading took longer than the ${clipTimeoutSec} s per-clip limit and was stopped`, {
              file: row.clip!.audio,
            });
            clipController.abort(err);
            reject(err);
          }, clipTimeoutSec * 1000);
        });
        graded.catch(() => {}); // settles after the limit: nobody waits for it any more
        result = await Promise.race([graded, limit]);
      }
    } catch (err) {
      if (clipController.signal.aborted && clipController.signal.reason instanceof VoxqcError && !controller.signal.aborted) {
        return finish({ error: errorOf(clipController.signal.reason), ms: Math.round(performance.now() - t0) });
      }
      // A clip cut short by the run being stopped is not a failed clip: leave it for the resume.
      if (controller.signal.aborted) return null;
      const e = errorOf(err);
      if (e.code === 'ERR_NATIVE_LOAD') {
        // Not this clip's fault: no clip can be graded. Stop without writing the row.
        throw new VoxqcError('ERR_NATIVE_LOAD', `${where}: stopped: ${e.message}`, { cause: err });
      }
      if (first && e.code === 'ERR_UNSUPPORTED') {
        // This grader cannot grade anything here: stop before writing a row.
        throw new VoxqcError('ERR_UNSUPPORTED', `${where}: the grader cannot run (${e.message}); nothing was written. ` +
          'Use another mode, or a grader module (--grader mod.js)', { cause: err });
      }
      return finish({ error: e, ms: Math.round(performance.now() - t0) });
    } finally {
      clearTimeout(limitTimer);
      controller.signal.removeEventListener('abort', onRunAbort);
    }
    const ms = Math.round(performance.now() - t0);
    const problem = validateResult(result);
    if (problem) return finish({ error: { code: 'ERR_GRADER', message: `${row.clip.audio}: the grader returned an invalid result: ${problem}` }, ms });
    const extra: Partial<GradedFields> = { grade: result.grade, flags: [...result.flags], scores: result.scores, ms };
    if (result.model !== undefined) extra.model = result.model;
    if (result.rules !== undefined) extra.rules = result.rules;
    return finish(extra);
  };

  o.onProgress?.(progress());
  let seq = 0;
  let firstDone = false;
  let failure: unknown;
  try {
    for await (const row of readManifest(input, { format: o.format, keys: o.keys })) {
      if (controller.signal.aborted || failure) break;
      if (!inShard(shard, row.index, row.id)) {
        summary.outsideShard++;
        continue;
      }
      summary.rows++;
      if (scan.done.take(row.id)) {
        summary.skipped++;
        continue;
      }
      while (!failure && (inFlight.size >= concurrency || (ordered && pending.size >= 8 * concurrency))) await Promise.race(inFlight);
      if (failure) break;
      const mySeq = seq++;
      const isFirst = !firstDone && !!row.clip && !row.error;
      const task = gradeRow(row, isFirst).then(
        (graded) => emit(mySeq, graded),
        (err) => {
          failure ??= err;
        },
      );
      const tracked: Promise<void> = task.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (isFirst) {
        // The first clip is graded alone: a grader that cannot work here (ERR_UNSUPPORTED)
        // stops the run before any row is written.
        await tracked;
        firstDone = true;
      }
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await Promise.allSettled(inFlight);
    await writer.close();
  }
  summary.aborted = controller.signal.aborted;
  summary.elapsedSec = (performance.now() - started) / 1000;
  summary.xRealTime = summary.elapsedSec > 0 ? summary.audioSec / summary.elapsedSec : 0;
  return summary;
}
