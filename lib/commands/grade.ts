// voxqc grade <manifest|dir> --out graded.jsonl: grade every clip of a manifest (resumable, sharded).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultModelDir } from '../grader.js';
import { VoxqcError } from '../errors.js';
import { gradeManifest, type GradeManifestOptions } from '../dataset/grade.js';
import { loadGraderModule, type GradeMode } from '../dataset/grader.js';
import { readThresholdsFile } from '../rubric.js';
import { MANIFEST_FORMATS, parseKeysOption, type ManifestFormat } from '../dataset/manifest.js';
import { progressReporter, summaryText, type ProgressStyle } from '../dataset/progress.js';
import { writeReport } from '../report/index.js';

export interface GradeCliValues {
  out?: string;
  report?: string;
  mode?: string;
  grader?: string;
  thresholds?: string;
  shard?: string;
  format?: string;
  keys?: string;
  ordered?: boolean;
  overwrite?: boolean;
  'retry-errors'?: boolean;
  fsync?: string;
  'clip-timeout'?: string;
  root?: string;
  quiet?: boolean;
  json?: boolean;
}

function usage(msg: string): VoxqcError {
  return new VoxqcError('ERR_INVALID_ARG', `grade: ${msg}`);
}

export function progressStyle(v: { quiet?: boolean; json?: boolean }): ProgressStyle {
  if (v.quiet) return 'quiet';
  if (v.json) return 'json';
  return process.stderr.isTTY ? 'bar' : 'lines';
}

export async function gradeCommand(args: string[], v: GradeCliValues): Promise<number> {
  if (args.length !== 1) throw usage(`name one manifest or folder (received ${args.length}); usage: voxqc grade IN --out graded.jsonl`);
  if (!v.out) throw usage('--out graded.jsonl is required');
  if (v.mode !== undefined && v.mode !== 'rules' && v.mode !== 'model') throw usage(`--mode: expected 'rules' or 'model', received '${v.mode}'`);
  if (v.mode !== undefined && v.grader !== undefined) throw usage('give --mode or --grader, not both');
  if (v.format !== undefined && !MANIFEST_FORMATS.includes(v.format as ManifestFormat)) {
    throw usage(`--format: expected one of ${MANIFEST_FORMATS.join(', ')}, received '${v.format}'`);
  }
  if (v.fsync !== undefined && !['row', 'interval', 'end'].includes(v.fsync)) throw usage(`--fsync: expected row, interval or end, received '${v.fsync}'`);
  const input = args[0]!;
  const options: GradeManifestOptions = {
    out: v.out,
    resume: !v.overwrite,
    retryErrors: !!v['retry-errors'],
    ordered: !!v.ordered,
  };
  if (v.grader) options.grader = await loadGraderModule(v.grader);
  // Default: the learned grader when its weights are installed (models/grader), else the rules.
  else options.mode = (v.mode as GradeMode | undefined) ?? (existsSync(join(process.env.VOXQC_MODEL || defaultModelDir(), 'model.pt')) ? 'model' : 'rules');
  if (v.thresholds) options.thresholds = await readThresholdsFile(v.thresholds);
  if (v.shard) options.shard = v.shard;
  if (v.format) options.format = v.format as ManifestFormat;
  if (v.keys) options.keys = parseKeysOption(v.keys);
  if (v.fsync) options.fsync = v.fsync as GradeManifestOptions['fsync'];
  if (v['clip-timeout'] !== undefined) {
    const t = Number(v['clip-timeout']);
    if (!(t > 0) || !Number.isFinite(t)) throw usage(`--clip-timeout: expected seconds > 0, received '${v['clip-timeout']}'`);
    options.clipTimeoutSec = t;
  }
  if (v.root !== undefined) options.root = v.root;

  const style = progressStyle(v);
  const reporter = progressReporter(style);
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      if (style !== 'json' && style !== 'quiet') process.stderr.write('\nvoxqc grade: stopping after the clips in flight (Ctrl-C again to stop now; finished rows are kept)\n');
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let started = false;
  options.signal = controller.signal;
  options.onProgress = (p) => {
    if (!started) {
      started = true;
      reporter.start({ input: resolve(input), out: resolve(v.out!), total: p.total, totalAudioSec: p.totalAudioSec, skipped: p.skipped });
    }
    reporter.progress(p);
  };
  options.onRow = (row) => reporter.row(row);
  let summary;
  try {
    summary = await gradeManifest(input, options);
  } finally {
    reporter.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (style === 'json') process.stdout.write(JSON.stringify({ time: new Date().toISOString(), event: 'done', ...summary }) + '\n');
  else if (style !== 'quiet') console.log(summaryText(summary));
  if (v.report && !summary.aborted) {
    const r = await writeReport(summary.out, { out: v.report });
    if (style === 'json') process.stdout.write(JSON.stringify({ time: new Date().toISOString(), event: 'report', ...r }) + '\n');
    else if (style !== 'quiet') console.log(`  report: ${r.out}`);
  }
  if (summary.aborted) return 130;
  return summary.output.failed > 0 ? 1 : 0;
}
