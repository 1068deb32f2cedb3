// filterGraded: keep the graded rows that pass a grade / flag / score filter, and write them back
// in the format of the original manifest (NeMo JSONL, CSV, TSV, lhotse cuts or recordings), so the
// result drops into the pipeline the manifest came from.
import { createWriteStream, renameSync, unlinkSync, existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep, basename, join } from 'node:path';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { stringify } from 'csv-stringify/sync';
import { VoxqcError } from '../errors.js';
import { GRADES, type Grade } from '../grading.js';
import { checkBoolean, checkOneOf, checkOptions, invalid } from '../validate.js';
import type { GradedFields } from './grade.js';
import { isGzipPath, openBytes, readLines } from './lines.js';
import type { ManifestFormat } from './manifest.js';
import { syncDir } from './output.js';
import { compileWhere } from './where.js';

export type PathMode = 'auto' | 'keep' | 'absolute';

export interface FilterGradedOptions {
  /** Where to write the kept rows. A name ending in .gz is gzipped. */
  out: string;
  /** Keep clips graded at least this well: 'high' keeps high only, 'medium' high and medium, 'low' (default) all graded clips. */
  minGrade?: Grade;
  /** Drop clips that have any of these flags. */
  excludeFlags?: string[];
  /** A --where expression over scores, e.g. "snrDb > 15 and not has(clipping)" (see where.ts). */
  where?: string;
  /** Keep the voxqc key (JSONL/lhotse) or add voxqc_grade/voxqc_flags columns (CSV/TSV). Default false. */
  keepVoxqc?: boolean;
  /** 'input' (default): the original manifest's format. 'graded': graded rows as they are (JSONL). */
  format?: 'input' | 'graded';
  /** Relative audio paths: 'auto' (default) rewrites them to stay right from the output's folder
   *  when that differs from the manifest's; 'keep' leaves them; 'absolute' makes them absolute. */
  paths?: PathMode;
}

export interface FilterSummary {
  out: string;
  /** The format written. */
  format: ManifestFormat | 'graded';
  kept: number;
  dropped: number;
  keptSec: number;
  droppedSec: number;
  /** Why rows were dropped (a row counts under the first reason that drops it). */
  droppedBy: { error: number; grade: number; flags: number; where: number };
}

const KNOWN = ['out', 'minGrade', 'excludeFlags', 'where', 'keepVoxqc', 'format', 'paths'] as const;

interface Sink {
  write(s: string): Promise<void>;
  close(): Promise<void>;
}

function openSink(path: string, gzip: boolean): Sink {
  const file = createWriteStream(path);
  let stream: Writable = file;
  if (gzip) {
    const gz = createGzip();
    gz.pipe(file);
    stream = gz;
  }
  let error: Error | undefined;
  stream.on('error', (e) => (error = e));
  file.on('error', (e) => (error = e));
  return {
    async write(s) {
      if (error) throw error;
      if (!stream.write(s)) await once(stream, 'drain');
    },
    async close() {
      stream.end();
      await once(file, 'close');
      if (error) throw error;
    },
  };
}

function rebase(p: unknown, base: string, outDir: string, mode: PathMode): unknown {
  if (typeof p !== 'string' || mode === 'keep' || isAbsolute(p) || /^[a-z][a-z0-9+.-]*:\/\//i.test(p)) return p;
  const abs = resolve(base, p);
  if (mode === 'absolute') return abs;
  if (resolve(base) === resolve(outDir)) return p;
  // Relative to the output's folder when the two share a folder below the root, else absolute.
  const rel = relative(outDir, abs);
  const ups = rel.split(sep).filter((s) => s === '..').length;
  const outDepth = resolve(outDir).split(sep).filter(Boolean).length;
  return ups >= outDepth ? abs : rel.split(sep).join('/');
}

function rebaseSources(rec: unknown, base: string, outDir: string, mode: PathMode): void {
  const sources = (rec as { sources?: unknown } | null)?.sources;
  if (!Array.isArray(sources)) return;
  for (const s of sources as { type?: unknown; source?: unknown }[]) {
    if (s && (s.type === undefined || s.type === 'file')) s.source = rebase(s.source, base, outDir, mode);
  }
}

/**
 * Keeps the rows of a graded JSONL (from gradeManifest) that pass the filters and writes them in
 * the original manifest's format. Error rows are dropped. Rows stay in the graded file's order.
 */
export async function filterGraded(graded: string, options: FilterGradedOptions): Promise<FilterSummary> {
  const where = 'filterGraded';
  if (typeof graded !== 'string' || graded === '') throw invalid(where, 'graded', 'a graded JSONL path', graded);
  const o = checkOptions<FilterGradedOptions>(where, options, KNOWN);
  if (typeof o.out !== 'string' || o.out === '') throw invalid(where, 'out', 'an output file path', o.out);
  const minGrade = o.minGrade === undefined ? 'low' : checkOneOf(where, 'minGrade', o.minGrade, GRADES);
  if (o.excludeFlags !== undefined && (!Array.isArray(o.excludeFlags) || !o.excludeFlags.every((f) => typeof f === 'string'))) {
    throw invalid(where, 'excludeFlags', 'an array of flag names', o.excludeFlags);
  }
  const exclude = new Set(o.excludeFlags ?? []);
  const predicate = o.where === undefined ? undefined : compileWhere(o.where);
  const keepVoxqc = o.keepVoxqc === undefined ? false : checkBoolean(where, 'keepVoxqc', o.keepVoxqc);
  const outFormatMode = o.format === undefined ? 'input' : checkOneOf(where, 'format', o.format, ['input', 'graded'] as const);
  const pathMode = o.paths === undefined ? 'auto' : checkOneOf(where, 'paths', o.paths, ['auto', 'keep', 'absolute'] as const);
  if (!existsSync(graded)) throw new VoxqcError('ERR_NOT_FOUND', `${graded}: no such graded file`, { file: graded });
  const out = resolve(o.out);
  if (out === resolve(graded)) throw invalid(where, 'out', 'a file other than the graded input', o.out);
  if (existsSync(out) && statSync(out).isDirectory()) throw invalid(where, 'out', 'a file path, not a folder', o.out);
  const outDir = dirname(out);
  const maxRank = GRADES.indexOf(minGrade);

  const tmp = join(outDir, `.${basename(out)}.tmp-${process.pid}`);
  const sink = openSink(tmp, isGzipPath(out));
  const summary: FilterSummary = {
    out,
    format: 'graded',
    kept: 0,
    dropped: 0,
    keptSec: 0,
    droppedSec: 0,
    droppedBy: { error: 0, grade: 0, flags: 0, where: 0 },
  };
  let format: ManifestFormat | 'graded' | undefined;
  let columns: string[] | undefined;
  let lineNo = 0;
  try {
    for await (const line of readLines(openBytes(graded))) {
      lineNo++;
      if (line.text.trim() === '') continue;
      let row: Record<string, unknown> & { voxqc?: GradedFields };
      try {
        row = JSON.parse(line.text);
      } catch {
        if (!line.terminated) continue; // a torn last line (a run still going, or killed): not a row yet
        throw new VoxqcError('ERR_INVALID_ARG', `${graded}: line ${lineNo} is not valid JSON`, { file: graded });
      }
      const v = row.voxqc;
      if (typeof v !== 'object' || v === null || typeof v.input !== 'object') {
        throw new VoxqcError('ERR_INVALID_ARG', `${graded}: line ${lineNo} is not a graded row (no voxqc key; grade the manifest first)`, { file: graded });
      }
      const sec = typeof v.audioSec === 'number' ? v.audioSec : 0;
      const reason = v.error
        ? 'error'
        : GRADES.indexOf(v.grade as Grade) > maxRank || GRADES.indexOf(v.grade as Grade) < 0
          ? 'grade'
          : (v.flags ?? []).some((f) => exclude.has(f))
            ? 'flags'
            : predicate && !predicate(row)
              ? 'where'
              : undefined;
      if (reason) {
        summary.dropped++;
        summary.droppedSec += sec;
        summary.droppedBy[reason]++;
        continue;
      }
      summary.kept++;
      summary.keptSec += sec;

      const rowFormat: ManifestFormat | 'graded' = outFormatMode === 'graded' ? 'graded' : v.input.format;
      if (format === undefined) {
        format = rowFormat;
        if (format === 'csv' || format === 'tsv') {
          columns = v.input.columns ?? Object.keys(row).filter((k) => k !== 'voxqc');
          const header = keepVoxqc ? [...columns, 'voxqc_grade', 'voxqc_flags'] : columns;
          await sink.write(stringify([header], { delimiter: format === 'tsv' ? '\t' : ',' }));
        }
      } else if (rowFormat !== format) {
        throw new VoxqcError('ERR_INVALID_ARG', `${graded}: line ${lineNo} comes from a ${rowFormat} manifest, earlier rows from a ${format} one; filter them separately`);
      }
      await sink.write(formatRow(row, v, format, columns!, keepVoxqc, outDir, pathMode));
    }
    await sink.close();
    renameSync(tmp, out);
    syncDir(outDir);
  } catch (err) {
    await sink.close().catch(() => {});
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw err;
  }
  summary.format = format === 'dir' ? 'nemo' : (format ?? 'graded');
  return summary;
}

function formatRow(
  row: Record<string, unknown>,
  v: GradedFields,
  format: ManifestFormat | 'graded',
  columns: string[],
  keepVoxqc: boolean,
  outDir: string,
  mode: PathMode,
): string {
  const { voxqc: _v, ...rec } = row;
  const base = v.input.base;
  if (format === 'graded') return JSON.stringify(row) + '\n';
  if (format === 'csv' || format === 'tsv') {
    if (v.input.audioKey) rec[v.input.audioKey] = rebase(rec[v.input.audioKey], base, outDir, mode);
    if (v.input.videoKey) rec[v.input.videoKey] = rebase(rec[v.input.videoKey], base, outDir, mode);
    const values = columns.map((c) => (rec[c] === undefined || rec[c] === null ? '' : String(rec[c])));
    if (keepVoxqc) values.push(v.grade ?? '', (v.flags ?? []).join(';'));
    return stringify([values], { delimiter: format === 'tsv' ? '\t' : ',' });
  }
  if (format === 'lhotse-recordings') rebaseSources(rec, base, outDir, mode);
  else if (format === 'lhotse-cuts') rebaseSources(rec.recording, base, outDir, mode);
  else {
    // NeMo (and folders, written as NeMo with the duration when known).
    if (v.input.audioKey) rec[v.input.audioKey] = rebase(rec[v.input.audioKey], base, outDir, mode);
    if (v.input.videoKey) rec[v.input.videoKey] = rebase(rec[v.input.videoKey], base, outDir, mode);
    if (format === 'dir' && rec.duration === undefined && typeof v.audioSec === 'number') rec.duration = v.audioSec;
  }
  return JSON.stringify(keepVoxqc ? { ...rec, voxqc: v } : rec) + '\n';
}
