// writeReport: one self-contained HTML file over a graded JSONL: grade distribution, flag counts,
// histograms of the main scores, the worst clips (player + spectrogram) and the failures. It opens
// offline: the chart library is inlined, the media are data: URIs, and a Content-Security-Policy
// forbids any network load.
import { renameSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { VoxqcError } from '../errors.js';
import { GRADES, type Grade } from '../grading.js';
import { checkBoolean, checkInteger, checkNumber, checkOptions, invalid } from '../validate.js';
import type { GradedFields } from '../dataset/grade.js';
import { openBytes, readLines } from '../dataset/lines.js';
import { clipMedia } from './media.js';
import { renderHtml, type ReportData, type WorstClip } from './html.js';

export interface WriteReportOptions {
  /** The HTML file to write. */
  out: string;
  /** How many of the worst clips to list with a player and a spectrogram. Default 30. */
  worst?: number;
  /** Seconds of each listed clip embedded (from its start). Default 5. */
  clipSec?: number;
  /** Embed players (default true) and spectrograms (default true). */
  audio?: boolean;
  spectrograms?: boolean;
  /** Title of the page. Default: "voxqc report: <file name>". */
  title?: string;
}

export interface ReportSummary {
  out: string;
  clips: number;
  failed: number;
  bytes: number;
}

/** The score histograms of the report, in order. */
export const HISTOGRAM_SCORES = [
  { key: 'snrDb', label: 'SNR (dB)' },
  { key: 'activeLevelDbfs', label: 'Active speech level (dBFS)' },
  { key: 'speechSec', label: 'Speech duration (s)' },
  { key: 'bandwidthHz', label: 'Bandwidth (Hz)' },
] as const;

const KNOWN = ['out', 'worst', 'clipSec', 'audio', 'spectrograms', 'title'] as const;
const MAX_FAILURES_LISTED = 200;

function histogram(values: number[], bins = 30): { edges: number[]; counts: number[] } | undefined {
  if (values.length === 0) return undefined;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]!++;
  return { edges: Array.from({ length: bins + 1 }, (_, i) => lo + i * width), counts };
}

type Candidate = { key: [number, number, number, string]; row: Record<string, unknown>; v: GradedFields };

/** Worse first: lower grade, more flags, lower SNR, then id. */
function worse(a: Candidate['key'], b: Candidate['key']): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number);
  return a[3] < b[3];
}

/**
 * Writes the HTML report of a graded JSONL. Reads the graded file as a stream; keeps only the
 * histogram values and the `worst` worst clips in memory.
 */
export async function writeReport(graded: string, options: WriteReportOptions): Promise<ReportSummary> {
  const where = 'writeReport';
  if (typeof graded !== 'string' || graded === '') throw invalid(where, 'graded', 'a graded JSONL path', graded);
  const o = checkOptions<WriteReportOptions>(where, options, KNOWN);
  if (typeof o.out !== 'string' || o.out === '') throw invalid(where, 'out', 'an output file path', o.out);
  const worstN = o.worst === undefined ? 30 : checkInteger(where, 'worst', o.worst, 0, 10000);
  const clipSec = o.clipSec === undefined ? 5 : checkNumber(where, 'clipSec', o.clipSec, { min: 0, minExclusive: true, max: 600 });
  const withAudio = o.audio === undefined ? true : checkBoolean(where, 'audio', o.audio);
  const withSpec = o.spectrograms === undefined ? true : checkBoolean(where, 'spectrograms', o.spectrograms);
  if (o.title !== undefined && typeof o.title !== 'string') throw invalid(where, 'title', 'a string', o.title);
  if (!existsSync(graded)) throw new VoxqcError('ERR_NOT_FOUND', `${graded}: no such graded file`, { file: graded });

  const byGrade: Record<Grade, number> = { high: 0, medium: 0, low: 0 };
  const flagCounts: Record<string, number> = {};
  const errorCounts: Record<string, number> = {};
  const values: Record<string, number[]> = Object.fromEntries(HISTOGRAM_SCORES.map((h) => [h.key, []]));
  const failures: ReportData['failures'] = [];
  const worst: Candidate[] = [];
  let clips = 0;
  let failed = 0;
  let audioSec = 0;
  let lineNo = 0;

  for await (const line of readLines(openBytes(graded))) {
    lineNo++;
    if (line.text.trim() === '') continue;
    let row: Record<string, unknown> & { voxqc?: GradedFields };
    try {
      row = JSON.parse(line.text);
    } catch {
      if (!line.terminated) continue; // torn last line of a run in progress
      throw new VoxqcError('ERR_INVALID_ARG', `${graded}: line ${lineNo} is not valid JSON`, { file: graded });
    }
    const v = row.voxqc;
    if (typeof v !== 'object' || v === null) {
      throw new VoxqcError('ERR_INVALID_ARG', `${graded}: line ${lineNo} is not a graded row (no voxqc key; grade the manifest first)`, { file: graded });
    }
    clips++;
    if (typeof v.audioSec === 'number') audioSec += v.audioSec;
    if (v.error) {
      failed++;
      errorCounts[v.error.code] = (errorCounts[v.error.code] ?? 0) + 1;
      if (failures.length < MAX_FAILURES_LISTED) failures.push({ id: String(v.id), code: v.error.code, message: v.error.message });
      continue;
    }
    const g = v.grade as Grade;
    if (g in byGrade) byGrade[g]++;
    for (const f of v.flags ?? []) flagCounts[f] = (flagCounts[f] ?? 0) + 1;
    const scores = v.scores ?? {};
    for (const h of HISTOGRAM_SCORES) {
      const x = scores[h.key];
      if (typeof x === 'number' && Number.isFinite(x)) values[h.key]!.push(x);
    }
    if (worstN > 0) {
      const snr = typeof scores.snrDb === 'number' && Number.isFinite(scores.snrDb) ? scores.snrDb : Infinity;
      const cand: Candidate = { key: [-GRADES.indexOf(g), -(v.flags?.length ?? 0), snr, String(v.id)], row, v };
      if (worst.length < worstN || worse(cand.key, worst[worst.length - 1]!.key)) {
        let i = worst.length;
        while (i > 0 && worse(cand.key, worst[i - 1]!.key)) i--;
        worst.splice(i, 0, cand);
        if (worst.length > worstN) worst.pop();
      }
    }
  }

  const worstClips: WorstClip[] = [];
  for (const c of worst) {
    const v = c.v;
    const media =
      (withAudio || withSpec) && typeof v.audio === 'string'
        ? await clipMedia(v.audio, { offsetSec: v.offsetSec, durationSec: v.durationSec }, { maxSec: clipSec, audio: withAudio, spectrogram: withSpec })
        : {};
    worstClips.push({
      id: String(v.id),
      audio: typeof v.audio === 'string' ? v.audio : '',
      offsetSec: v.offsetSec,
      grade: v.grade as Grade,
      flags: v.flags ?? [],
      scores: v.scores ?? {},
      text: typeof c.row.text === 'string' ? c.row.text : undefined,
      media,
    });
  }

  const data: ReportData = {
    title: o.title ?? `voxqc report: ${basename(graded)}`,
    source: resolve(graded),
    generated: new Date().toISOString(),
    clips,
    failed,
    audioSec,
    byGrade,
    flags: Object.entries(flagCounts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
    errors: Object.entries(errorCounts).sort((a, b) => b[1] - a[1]),
    histograms: HISTOGRAM_SCORES.map((h) => ({ key: h.key, label: h.label, n: values[h.key]!.length, hist: histogram(values[h.key]!) })),
    worst: worstClips,
    failures,
    clipSec,
  };
  const html = renderHtml(data);
  const out = resolve(o.out);
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}`);
  try {
    writeFileSync(tmp, html);
    renameSync(tmp, out);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* not written */
    }
    throw new VoxqcError('ERR_NOT_FOUND', `${o.out}: cannot write the report: ${(err as Error).message}`, { file: out, cause: err });
  }
  return { out, clips, failed, bytes: Buffer.byteLength(html) };
}
