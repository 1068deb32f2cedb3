// voxqc report graded.jsonl --out report.html: a self-contained HTML report.
import { VoxqcError } from '../errors.js';
import { writeReport, type WriteReportOptions } from '../report/index.js';

export interface ReportCliValues {
  out?: string;
  worst?: string;
  'clip-sec'?: string;
  quiet?: boolean;
  json?: boolean;
}

function usage(msg: string): VoxqcError {
  return new VoxqcError('ERR_INVALID_ARG', `report: ${msg}`);
}

export async function reportCommand(args: string[], v: ReportCliValues): Promise<number> {
  if (args.length !== 1) throw usage(`name one graded JSONL (received ${args.length}); usage: voxqc report graded.jsonl --out report.html`);
  if (!v.out) throw usage('--out report.html is required');
  const options: WriteReportOptions = { out: v.out };
  if (v.worst !== undefined) {
    const n = Number(v.worst);
    if (!Number.isInteger(n) || n < 0) throw usage(`--worst: expected an integer ≥ 0, received '${v.worst}'`);
    options.worst = n;
  }
  if (v['clip-sec'] !== undefined) {
    const n = Number(v['clip-sec']);
    if (!Number.isFinite(n) || n <= 0) throw usage(`--clip-sec: expected a number of seconds > 0, received '${v['clip-sec']}'`);
    options.clipSec = n;
  }
  const r = await writeReport(args[0]!, options);
  if (v.json) console.log(JSON.stringify({ event: 'done', ...r }));
  else if (!v.quiet) console.log(`voxqc report: ${r.clips} clips (${r.failed} failed) → ${r.out} (${(r.bytes / 1e6).toFixed(1)} MB)`);
  return 0;
}
