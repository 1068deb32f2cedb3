// voxqc filter graded.jsonl --out clean.jsonl: keep clips by grade, flags and scores, in the
// original manifest's format.
import { VoxqcError } from '../errors.js';
import { filterGraded, type FilterGradedOptions, type PathMode } from '../dataset/filter.js';
import { GRADES, type Grade } from '../grading.js';

export interface FilterCliValues {
  out?: string;
  'min-grade'?: string;
  'exclude-flags'?: string;
  where?: string;
  'keep-voxqc'?: boolean;
  format?: string;
  paths?: string;
  quiet?: boolean;
  json?: boolean;
}

function usage(msg: string): VoxqcError {
  return new VoxqcError('ERR_INVALID_ARG', `filter: ${msg}`);
}

function hours(sec: number): string {
  return `${(sec / 3600).toFixed(sec < 360 ? 3 : 2)} h`;
}

export async function filterCommand(args: string[], v: FilterCliValues): Promise<number> {
  if (args.length !== 1) throw usage(`name one graded JSONL (received ${args.length}); usage: voxqc filter graded.jsonl --min-grade medium --out clean.jsonl`);
  if (!v.out) throw usage('--out FILE is required');
  const options: FilterGradedOptions = { out: v.out };
  if (v['min-grade'] !== undefined) {
    if (!GRADES.includes(v['min-grade'] as Grade)) throw usage(`--min-grade: expected high, medium or low, received '${v['min-grade']}'`);
    options.minGrade = v['min-grade'] as Grade;
  }
  if (v['exclude-flags']) options.excludeFlags = v['exclude-flags'].split(',').map((f) => f.trim()).filter(Boolean);
  if (v.where !== undefined) options.where = v.where;
  if (v['keep-voxqc']) options.keepVoxqc = true;
  if (v.format !== undefined) {
    if (v.format !== 'input' && v.format !== 'graded') throw usage(`--format: expected input or graded, received '${v.format}'`);
    options.format = v.format;
  }
  if (v.paths !== undefined) {
    if (!['auto', 'keep', 'absolute'].includes(v.paths)) throw usage(`--paths: expected auto, keep or absolute, received '${v.paths}'`);
    options.paths = v.paths as PathMode;
  }
  const s = await filterGraded(args[0]!, options);
  if (v.json) console.log(JSON.stringify({ event: 'done', ...s }));
  else if (!v.quiet) {
    const d = s.droppedBy;
    console.log(
      `voxqc filter: kept ${s.kept} clips (${hours(s.keptSec)}), dropped ${s.dropped} (${hours(s.droppedSec)}: ` +
        `${d.grade} by grade, ${d.flags} by flags, ${d.where} by --where, ${d.error} failed)\n  written to ${s.out} (${s.format})`,
    );
  }
  return 0;
}
