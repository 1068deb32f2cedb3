// submit: split a manifest into jobs (chunks of rows) on the BullMQ queue. Idempotent: job ids
// are '<run>.<chunk>', and a chunk already queued, running, failed or done is not added again.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { VoxqcError } from '../errors.js';
import { readManifest, resolveKeys, MANIFEST_FORMATS, type ManifestFormat, type ManifestKeyOptions } from '../dataset/manifest.js';
import { checkInteger, checkOptions, checkOneOf, invalid } from '../validate.js';
import {
  bullConnection, checkPrefix, checkRedis, checkRunName, connect, jobIdOf, Keys, metaHash, ping, QUEUE_NAME, readMeta,
  type QueueBaseOptions, type RunMeta,
} from './redis.js';
import { toJobRow, type JobData } from './rows.js';

export interface SubmitOptions extends QueueBaseOptions {
  /** The manifest (NeMo JSONL, CSV/TSV, lhotse, .gz) or a folder of clips. */
  input: string;
  /** The run's name (letters, digits, _ . -). Default: the manifest's name without extensions. */
  name?: string;
  /** Rows per job. Default 200. */
  chunk?: number;
  format?: ManifestFormat;
  keys?: ManifestKeyOptions;
  /** Thresholds for the grader, stored with the run: every worker grades with them. */
  thresholds?: Record<string, unknown>;
  /** Tries per job before it is failed (a row's failure never fails its job). Default 3. */
  attempts?: number;
  /** Before each retry: waits backoffMs, 2×, 4×… Default 1000. */
  backoffMs?: number;
}

export interface SubmitSummary {
  run: string;
  input: string;
  rows: number;
  chunks: number;
  chunkSize: number;
  /** Jobs added by this call (0 when everything was submitted before). */
  added: number;
  /** Chunks already queued or running, already done, or failed (left as they are). */
  existing: number;
  done: number;
  totalAudioSec?: number;
  /** True when the run was created by this call. */
  created: boolean;
}

const KNOWN = ['redis', 'prefix', 'input', 'name', 'chunk', 'format', 'keys', 'thresholds', 'attempts', 'backoffMs'] as const;

/** The default run name of a manifest: its file name without extensions. */
export function defaultRunName(input: string): string {
  const name = basename(resolve(input)).replace(/(\.(jsonl|json|csv|tsv|tab|gz))+$/i, '').replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return (name || 'run').slice(0, 100);
}

/**
 * Splits a manifest into jobs of `chunk` rows on the queue, and records the run. Submitting the
 * same manifest under the same name again adds nothing (only chunks whose job is gone and that
 * are not done, e.g. after the run's jobs were removed). A run name already used for another
 * manifest is refused.
 */
export async function submit(options: SubmitOptions): Promise<SubmitSummary> {
  const where = 'submit';
  const o = checkOptions<SubmitOptions>(where, options, KNOWN);
  if (typeof o.input !== 'string' || o.input === '') throw invalid(where, 'input', 'a manifest path or a folder', o.input);
  const redis = checkRedis(where, o.redis);
  const prefix = checkPrefix(where, o.prefix);
  const run = checkRunName(where, o.name ?? defaultRunName(o.input));
  const chunkSize = o.chunk === undefined ? 200 : checkInteger(where, 'chunk', o.chunk, 1, 100000);
  const attempts = o.attempts === undefined ? 3 : checkInteger(where, 'attempts', o.attempts, 1, 100);
  const backoffMs = o.backoffMs === undefined ? 1000 : checkInteger(where, 'backoffMs', o.backoffMs, 0, 3600000);
  if (o.format !== undefined) checkOneOf(where, 'format', o.format, MANIFEST_FORMATS);
  resolveKeys(where, o.keys);
  if (o.thresholds !== undefined && (typeof o.thresholds !== 'object' || o.thresholds === null || Array.isArray(o.thresholds))) {
    throw invalid(where, 'thresholds', 'an object', o.thresholds);
  }
  const input = resolve(o.input);
  const st = await stat(input).catch(() => undefined);
  if (!st) throw new VoxqcError('ERR_NOT_FOUND', `${where}: ${o.input}: no such manifest file or directory`, { file: input });
  const base = st.isDirectory() ? input : dirname(input);

  const keys = new Keys(prefix);
  const client = connect(redis, false);
  const queue = new Queue<JobData>(QUEUE_NAME, { connection: bullConnection(redis, false) as never, prefix });
  queue.on('error', () => {});
  try {
    await ping(client, redis, where);
    const before = await readMeta(client, keys, run);
    const done = new Set((await client.smembers(keys.done(run))).map(Number));

    // One pass over the manifest: the signature (to know a resubmission), and the jobs.
    const hash = createHash('sha1');
    let rows = 0;
    let audioSec = 0;
    let allKnown = true;
    let added = 0;
    let existing = 0;
    let chunk: JobData | undefined;
    let pendingJobs: JobData[] = [];
    let chunks = 0;
    const jobOpts = (c: number) => ({
      jobId: jobIdOf(run, c),
      attempts,
      backoff: { type: 'exponential', delay: backoffMs },
      removeOnComplete: true,
      removeOnFail: false,
    });
    const flush = async () => {
      if (pendingJobs.length === 0) return;
      const ids = pendingJobs.map((j) => jobIdOf(run, j.chunk));
      const exists = await client.pipeline(ids.map((id) => ['exists', keys.job(id)])).exec();
      const fresh = pendingJobs.filter((j, i) => !done.has(j.chunk) && Number(exists?.[i]?.[1] ?? 0) === 0);
      existing += pendingJobs.length - fresh.length;
      if (fresh.length) {
        await queue.addBulk(fresh.map((j) => ({ name: run, data: j, opts: jobOpts(j.chunk) })));
        added += fresh.length;
      }
      pendingJobs = [];
    };
    // A resubmission must be the same manifest: check the signature before adding anything.
    // The signature is only known at the end, so a new run's jobs are added as they are read,
    // and an existing run's only after the check (a second pass).
    const readAll = async (addJobs: boolean) => {
      for await (const row of readManifest(input, { format: o.format, keys: o.keys })) {
        if (!addJobs) {
          hash.update(`${row.index}\u0000${row.id}\u0000${row.raw ?? JSON.stringify(row.row)}\n`);
          rows++;
          const d = row.clip?.durationSec ?? row.durationSec;
          if (d === undefined) allKnown = false;
          else audioSec += d;
          continue;
        }
        const c = Math.floor(row.index / chunkSize);
        if (!chunk || chunk.chunk !== c) {
          if (chunk) pendingJobs.push(chunk);
          if (pendingJobs.length >= 50) await flush();
          chunk = { run, chunk: c, base, rows: [] };
          if (row.columns) chunk.columns = row.columns;
        }
        chunk.rows.push(toJobRow(row));
      }
      if (addJobs && chunk) pendingJobs.push(chunk);
      if (addJobs) await flush();
    };
    await readAll(false);
    chunks = Math.ceil(rows / chunkSize);
    const signature = hash.digest('hex');
    if (before) {
      if (before.signature !== signature || before.chunkSize !== chunkSize || before.input !== input) {
        const what = before.input !== input ? `manifest ${before.input}` : before.chunkSize !== chunkSize ? `chunk ${before.chunkSize}` : 'a different content of that manifest';
        throw new VoxqcError('ERR_INVALID_ARG', `${where}: run '${run}' exists with ${what} (${before.rows} rows); give another name (--name), or remove the run first (voxqc queue remove ${run})`);
      }
    } else {
      const meta: RunMeta = { name: run, input, rows, chunks, chunkSize, signature, createdAt: new Date().toISOString() };
      if (o.format) meta.format = o.format;
      if (allKnown) meta.totalAudioSec = audioSec;
      if (o.thresholds) meta.thresholds = o.thresholds;
      await client.multi().hset(keys.meta(run), metaHash(meta)).sadd(keys.runs(), run).exec();
    }
    await readAll(true);
    const summary: SubmitSummary = { run, input, rows, chunks, chunkSize, added, existing, done: done.size, created: !before };
    if (allKnown) summary.totalAudioSec = audioSec;
    return summary;
  } finally {
    await queue.close().catch(() => {});
    client.disconnect();
  }
}
