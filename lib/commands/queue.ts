// voxqc queue submit|status|collect|remove|list: cluster runs on a BullMQ queue in Redis.
import { VoxqcError } from '../errors.js';
import { readThresholdsFile } from '../rubric.js';
import { MANIFEST_FORMATS, parseKeysOption, type ManifestFormat } from '../dataset/manifest.js';
import { formatSeconds } from '../dataset/progress.js';
import { collect, listRuns, queueStatus, removeRun, type RunStatus } from '../queue/status.js';
import { submit, type SubmitOptions } from '../queue/submit.js';

export interface QueueCliValues {
  redis?: string;
  name?: string;
  chunk?: string;
  out?: string;
  partial?: boolean;
  thresholds?: string;
  format?: string;
  keys?: string;
  json?: boolean;
  quiet?: boolean;
}

const USAGE = `usage:
  voxqc queue submit IN --redis URL [--name RUN] [--chunk 200] [--thresholds FILE] [--format F] [--keys K]
  voxqc queue status [RUN] --redis URL          (no RUN: the runs in Redis)
  voxqc queue collect RUN --redis URL --out graded.jsonl [--partial]
  voxqc queue remove RUN --redis URL`;

function usage(msg: string): VoxqcError {
  return new VoxqcError('ERR_INVALID_ARG', `queue: ${msg}\n${USAGE}`);
}

function hours(sec: number): string {
  return `${(sec / 3600).toFixed(sec < 360 ? 3 : 2)} h`;
}

export function statusText(s: RunStatus): string {
  const c = s.chunks;
  const errors = Object.entries(s.errors)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const lines = [
    `run ${s.run}: ${s.finished ? 'finished' : c.failed > 0 && c.done + c.failed === c.total ? 'stopped (failed jobs)' : 'running'} (${s.input})`,
    `  jobs: ${c.done} done, ${c.active} active, ${c.waiting} waiting, ${c.failed} failed, of ${c.total}`,
    `  rows: ${s.rows.stored} of ${s.rows.total} graded: high ${s.byGrade.high}, medium ${s.byGrade.medium}, low ${s.byGrade.low}, ` +
      `failed ${s.rows.failed}${errors ? ` (${errors})` : ''}`,
    `  audio: ${hours(s.audioSec)}${s.totalAudioSec !== undefined ? ` of ${hours(s.totalAudioSec)}` : ''} graded in ${formatSeconds(s.elapsedSec)}: ` +
      `${s.xRealTime.toFixed(1)}x real time, ${s.rowsPerSec.toFixed(1)} rows/s${s.etaSec !== undefined ? `, about ${formatSeconds(s.etaSec)} left` : ''}`,
  ];
  for (const a of s.activeJobs.slice(0, 20)) lines.push(`  active: job ${a.jobId} (rows from ${a.chunk}…, attempt ${a.attempt}${a.worker ? `, ${a.worker}` : ''})`);
  for (const f of s.failedJobs.slice(0, 50)) {
    lines.push(`  failed: job ${f.jobId} (rows ${f.firstRow}–${f.firstRow + f.rows - 1}) after ${f.attempts} attempt(s): ${f.reason}`);
  }
  if (s.failedJobs.length > 50) lines.push(`  … ${s.failedJobs.length - 50} more failed jobs (--json lists them all)`);
  return lines.join('\n');
}

export async function queueCommand(args: string[], v: QueueCliValues): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub) throw usage('name a subcommand: submit, status, collect, remove');
  if (!v.redis) throw usage('--redis URL is required (e.g. --redis redis://127.0.0.1:6379)');
  const redis = v.redis;
  const print = (human: string, json: object) => {
    if (v.json) process.stdout.write(JSON.stringify(json) + '\n');
    else if (!v.quiet) console.log(human);
  };
  switch (sub) {
    case 'submit': {
      if (rest.length !== 1) throw usage(`submit: name one manifest or folder (received ${rest.length})`);
      const opts: SubmitOptions = { redis, input: rest[0]! };
      if (v.name) opts.name = v.name;
      if (v.chunk !== undefined) {
        const n = Number(v.chunk);
        if (!Number.isInteger(n) || n < 1) throw usage(`--chunk: expected a positive integer, received '${v.chunk}'`);
        opts.chunk = n;
      }
      if (v.format !== undefined) {
        if (!MANIFEST_FORMATS.includes(v.format as ManifestFormat)) throw usage(`--format: expected one of ${MANIFEST_FORMATS.join(', ')}, received '${v.format}'`);
        opts.format = v.format as ManifestFormat;
      }
      if (v.keys) opts.keys = parseKeysOption(v.keys);
      if (v.thresholds) opts.thresholds = await readThresholdsFile(v.thresholds);
      const s = await submit(opts);
      print(
        `voxqc queue submit: run ${s.run}: ${s.rows} rows in ${s.chunks} jobs of ${s.chunkSize}: ${s.added} added, ${s.existing} already submitted` +
          (s.done ? ` (${s.done} done)` : '') +
          (s.totalAudioSec !== undefined ? `; ${hours(s.totalAudioSec)} of audio` : '') +
          `\n  start workers: voxqc worker --redis ${redis}\n  follow:        voxqc queue status ${s.run} --redis ${redis}`,
        { event: 'submitted', ...s },
      );
      return 0;
    }
    case 'status': {
      if (rest.length === 0) {
        const runs = await listRuns({ redis });
        print(runs.length ? runs.join('\n') : '(no runs)', { runs });
        return 0;
      }
      if (rest.length !== 1) throw usage('status: name one run');
      const s = await queueStatus({ redis, run: rest[0]! });
      print(statusText(s), s);
      return s.chunks.failed > 0 ? 1 : 0;
    }
    case 'collect': {
      if (rest.length !== 1) throw usage('collect: name one run');
      if (!v.out) throw usage('collect: --out graded.jsonl is required');
      const s = await collect({ redis, run: rest[0]!, out: v.out, partial: !!v.partial });
      const errors = Object.entries(s.errors).map(([k, n]) => `${k} ${n}`).join(', ');
      print(
        `voxqc queue collect: run ${s.run}: ${s.rows} rows written to ${s.out}${s.missing ? ` (${s.missing} rows not graded yet: partial)` : ''}\n` +
          `  high ${s.byGrade.high}, medium ${s.byGrade.medium}, low ${s.byGrade.low}, failed ${s.failed}${errors ? ` (${errors})` : ''}; ${hours(s.audioSec)} of audio`,
        { event: 'collected', ...s },
      );
      return s.failed > 0 ? 1 : 0;
    }
    case 'remove': {
      if (rest.length !== 1) throw usage('remove: name one run');
      const s = await removeRun({ redis, run: rest[0]! });
      print(`voxqc queue remove: run ${s.run}: ${s.keys} keys and ${s.jobs} jobs deleted${s.active ? ` (${s.active} jobs active: their results are dropped)` : ''}`, { event: 'removed', ...s });
      return 0;
    }
    default:
      throw usage(`unknown subcommand '${sub}'`);
  }
}
