// queueStatus, collect, removeRun, listRuns: what a run has done, its graded rows written out in
// input order (every row exactly once), and its removal from Redis.
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { once } from 'node:events';
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { VoxqcError } from '../errors.js';
import type { Grade } from '../grading.js';
import { checkBoolean, checkOptions, invalid } from '../validate.js';
import {
  bullConnection, checkPrefix, checkRedis, checkRunName, connect, jobIdOf, Keys, noSuchRun, parseJobId, ping, QUEUE_NAME, readMeta,
  type QueueBaseOptions, type RedisConnection, type RunMeta,
} from './redis.js';
import type { JobData } from './rows.js';

export interface RunOptions extends QueueBaseOptions {
  run: string;
}

export interface RunStatus {
  run: string;
  input: string;
  createdAt: string;
  /** Chunks (jobs) of the run, and where they are. waiting counts those waiting a retry too. */
  chunks: { total: number; done: number; active: number; waiting: number; failed: number };
  /** Rows of the manifest; rows stored (graded or error rows); error rows. */
  rows: { total: number; stored: number; failed: number };
  byGrade: Record<Grade, number>;
  errors: Record<string, number>;
  /** Audio seconds graded, and of the whole manifest when every row says. */
  audioSec: number;
  totalAudioSec?: number;
  /** From the first job's start to the last row stored (or now, while running). */
  elapsedSec: number;
  /** Audio seconds graded per wall second, and rows per second, over elapsedSec. */
  xRealTime: number;
  rowsPerSec: number;
  /** Estimated seconds left at that rate (while not finished). */
  etaSec?: number;
  /** True when every chunk is done. */
  finished: boolean;
  /** Failed jobs: the chunk, its rows, why (the last attempt's error), attempts made. */
  failedJobs: { chunk: number; jobId: string; firstRow: number; rows: number; reason: string; attempts: number }[];
  /** Jobs being worked on now, and by whom. */
  activeJobs: { chunk: number; jobId: string; worker?: string; attempt: number }[];
}

async function withClients<T>(where: string, o: QueueBaseOptions, fn: (c: { client: Redis; queue: Queue<JobData>; keys: Keys; redis: RedisConnection }) => Promise<T>): Promise<T> {
  const redis = checkRedis(where, o.redis);
  const prefix = checkPrefix(where, o.prefix);
  const client = connect(redis, false);
  const queue = new Queue<JobData>(QUEUE_NAME, { connection: bullConnection(redis, false) as never, prefix });
  queue.on('error', () => {});
  try {
    await ping(client, redis, where);
    return await fn({ client, queue, keys: new Keys(prefix), redis });
  } finally {
    await queue.close().catch(() => {});
    client.disconnect();
  }
}

/** The run's jobs in the given states (the queue holds every run's jobs: filtered by id). */
async function runJobs(queue: Queue<JobData>, run: string, state: 'failed' | 'active'): Promise<Job<JobData>[]> {
  const out: Job<JobData>[] = [];
  const page = 1000;
  for (let start = 0; ; start += page) {
    const jobs = (await queue.getJobs([state], start, start + page - 1, true)) as Job<JobData>[];
    for (const j of jobs) if (j && j.id && parseJobId(j.id)?.run === run) out.push(j);
    if (jobs.length < page) break;
  }
  return out;
}

function statusOf(meta: RunMeta, stats: Record<string, string>, done: number, failed: Job<JobData>[], active: Job<JobData>[], doneSet: Set<number>): RunStatus {
  const byGrade: Record<Grade, number> = { high: 0, medium: 0, low: 0 };
  const errors: Record<string, number> = {};
  for (const [k, v] of Object.entries(stats)) {
    if (k.startsWith('grade:')) byGrade[k.slice(6) as Grade] = Number(v);
    else if (k.startsWith('error:')) errors[k.slice(6)] = Number(v);
  }
  const stored = Number(stats.rows ?? 0);
  const audioSec = Number(stats.audioSec ?? 0);
  const finished = done >= meta.chunks;
  const startedAt = stats.startedAt ? Number(stats.startedAt) : undefined;
  const lastAt = stats.lastAt ? Number(stats.lastAt) : undefined;
  const end = finished ? lastAt ?? Date.now() : Date.now();
  const elapsedSec = startedAt !== undefined ? Math.max(0, (end - startedAt) / 1000) : 0;
  const failedJobs = failed
    .map((j) => {
      const chunk = parseJobId(j.id!)!.chunk;
      return { chunk, jobId: j.id!, firstRow: chunk * meta.chunkSize, rows: j.data?.rows?.length ?? 0, reason: j.failedReason ?? '', attempts: j.attemptsMade };
    })
    .filter((f) => !doneSet.has(f.chunk))
    .sort((a, b) => a.chunk - b.chunk);
  const activeJobs = active
    .map((j) => ({ chunk: parseJobId(j.id!)!.chunk, jobId: j.id!, ...(j.processedBy ? { worker: j.processedBy } : {}), attempt: j.attemptsMade + 1 }))
    .filter((a) => !doneSet.has(a.chunk))
    .sort((a, b) => a.chunk - b.chunk);
  const s: RunStatus = {
    run: meta.name,
    input: meta.input,
    createdAt: meta.createdAt,
    chunks: {
      total: meta.chunks,
      done,
      active: activeJobs.length,
      failed: failedJobs.length,
      waiting: Math.max(0, meta.chunks - done - activeJobs.length - failedJobs.length),
    },
    rows: { total: meta.rows, stored, failed: Number(stats.failed ?? 0) },
    byGrade,
    errors,
    audioSec,
    elapsedSec,
    xRealTime: elapsedSec > 0 ? audioSec / elapsedSec : 0,
    rowsPerSec: elapsedSec > 0 ? stored / elapsedSec : 0,
    finished,
    failedJobs,
    activeJobs,
  };
  if (meta.totalAudioSec !== undefined) s.totalAudioSec = meta.totalAudioSec;
  if (!finished && s.rowsPerSec > 0) {
    s.etaSec =
      meta.totalAudioSec !== undefined && s.xRealTime > 0
        ? Math.max(0, meta.totalAudioSec - audioSec) / s.xRealTime
        : Math.max(0, meta.rows - stored) / s.rowsPerSec;
  }
  return s;
}

/** Where a run stands: chunks done / active / waiting / failed (with the reasons), rows, audio graded, rate. */
export async function queueStatus(options: RunOptions): Promise<RunStatus> {
  const where = 'queueStatus';
  const o = checkOptions<RunOptions>(where, options, ['redis', 'prefix', 'run']);
  const run = checkRunName(where, o.run);
  return withClients(where, o as QueueBaseOptions, async ({ client, queue, keys, redis }) => {
    const meta = await readMeta(client, keys, run);
    if (!meta) throw noSuchRun(where, run, redis);
    const [stats, doneList] = await Promise.all([client.hgetall(keys.stats(run)), client.smembers(keys.done(run))]);
    const doneSet = new Set(doneList.map(Number));
    const [failed, active] = await Promise.all([runJobs(queue, run, 'failed'), runJobs(queue, run, 'active')]);
    return statusOf(meta, stats, doneSet.size, failed, active, doneSet);
  });
}

/** The runs recorded in Redis. */
export async function listRuns(options: QueueBaseOptions): Promise<string[]> {
  const where = 'listRuns';
  const o = checkOptions<QueueBaseOptions>(where, options, ['redis', 'prefix']);
  return withClients(where, o as QueueBaseOptions, async ({ client, keys }) => (await client.smembers(keys.runs())).sort());
}

export interface CollectOptions extends RunOptions {
  /** The output JSONL: every row of the manifest exactly once, in input order. */
  out: string;
  /** Write the rows there are when the run is not finished (default false: refuse). */
  partial?: boolean;
}

export interface CollectSummary {
  out: string;
  run: string;
  /** Rows written; rows of the manifest not yet graded (partial only). */
  rows: number;
  missing: number;
  failed: number;
  byGrade: Record<Grade, number>;
  errors: Record<string, number>;
  audioSec: number;
}

/**
 * Writes the run's graded rows to `out` in input order, each row exactly once: the same rows
 * (`voxqc grade`'s shape) a single-machine `voxqc grade` writes, ready for `voxqc filter` and
 * `voxqc report`. Refuses an unfinished run unless `partial`.
 */
export async function collect(options: CollectOptions): Promise<CollectSummary> {
  const where = 'collect';
  const o = checkOptions<CollectOptions>(where, options, ['redis', 'prefix', 'run', 'out', 'partial']);
  const run = checkRunName(where, o.run);
  if (typeof o.out !== 'string' || o.out === '') throw invalid(where, 'out', 'an output file path', o.out);
  const partial = o.partial === undefined ? false : checkBoolean(where, 'partial', o.partial);
  const out = resolve(o.out);
  if (existsSync(out) && statSync(out).isDirectory()) throw invalid(where, 'out', 'a file path, not a folder', o.out);
  if (!existsSync(dirname(out))) throw new VoxqcError('ERR_NOT_FOUND', `${where}: the folder of out (${dirname(out)}) does not exist`);
  return withClients(where, o as QueueBaseOptions, async ({ client, keys, redis }) => {
    const meta = await readMeta(client, keys, run);
    if (!meta) throw noSuchRun(where, run, redis);
    // Rows stored per chunk: all must be there (unless partial) before anything is written.
    const counts: number[] = [];
    for (let c0 = 0; c0 < meta.chunks; c0 += 500) {
      const p = client.pipeline();
      for (let c = c0; c < Math.min(meta.chunks, c0 + 500); c++) p.hlen(keys.rows(run, c));
      for (const [err, n] of (await p.exec()) ?? []) {
        if (err) throw err;
        counts.push(Number(n));
      }
    }
    const expected = (c: number) => Math.min(meta.chunkSize, meta.rows - c * meta.chunkSize);
    const missing = counts.reduce((s, n, c) => s + Math.max(0, expected(c) - n), 0);
    if (missing > 0 && !partial) {
      const chunks = counts.map((n, c) => (n < expected(c) ? c : -1)).filter((c) => c >= 0);
      throw new VoxqcError(
        'ERR_INVALID_ARG',
        `${where}: run '${run}' is not finished: ${missing} of ${meta.rows} rows not graded yet (chunks ${chunks.slice(0, 10).join(', ')}${chunks.length > 10 ? ', …' : ''}); ` +
          'see voxqc queue status, or write what there is with --partial',
      );
    }
    const summary: CollectSummary = { out, run, rows: 0, missing, failed: 0, byGrade: { high: 0, medium: 0, low: 0 }, errors: {}, audioSec: 0 };
    const stream = createWriteStream(out);
    const failedWrite = new Promise<never>((_, reject) => stream.once('error', reject));
    failedWrite.catch(() => {});
    try {
      for (let c = 0; c < meta.chunks; c++) {
        if (counts[c] === 0) continue;
        const h = await client.hgetall(keys.rows(run, c));
        const rows = Object.entries(h)
          .map(([k, v]) => [Number(k), v] as const)
          .sort((a, b) => a[0] - b[0]);
        let text = '';
        for (const [, line] of rows) {
          const v = (JSON.parse(line) as { voxqc: { grade?: Grade; error?: { code: string }; audioSec?: number } }).voxqc;
          summary.rows++;
          if (v.error) {
            summary.failed++;
            summary.errors[v.error.code] = (summary.errors[v.error.code] ?? 0) + 1;
          } else if (v.grade) summary.byGrade[v.grade]++;
          if (v.audioSec !== undefined) summary.audioSec += v.audioSec;
          text += line + '\n';
        }
        if (!stream.write(text)) await Promise.race([once(stream, 'drain'), failedWrite]);
      }
    } finally {
      stream.end();
      await Promise.race([once(stream, 'finish'), failedWrite]);
    }
    return summary;
  });
}

export interface RemoveSummary {
  run: string;
  /** Redis keys deleted, and jobs removed from the queue. */
  keys: number;
  jobs: number;
  /** Jobs being worked on, which cannot be removed now (their results are dropped when they finish). */
  active: number;
}

/** Deletes a run from Redis: its record, its stored rows, its jobs. */
export async function removeRun(options: RunOptions): Promise<RemoveSummary> {
  const where = 'removeRun';
  const o = checkOptions<RunOptions>(where, options, ['redis', 'prefix', 'run']);
  const run = checkRunName(where, o.run);
  return withClients(where, o as QueueBaseOptions, async ({ client, queue, keys, redis }) => {
    const meta = await readMeta(client, keys, run);
    if (!meta) throw noSuchRun(where, run, redis);
    const active = (await runJobs(queue, run, 'active')).length;
    let jobs = 0;
    for (let c = 0; c < meta.chunks; c++) jobs += await queue.remove(jobIdOf(run, c)).catch(() => 0);
    const doomed = [keys.meta(run), keys.stats(run), keys.done(run), ...Array.from({ length: meta.chunks }, (_, c) => [keys.rows(run, c), keys.tries(run, c)]).flat()];
    let deleted = 0;
    for (let i = 0; i < doomed.length; i += 500) deleted += await client.del(...doomed.slice(i, i + 500));
    await client.srem(keys.runs(), run);
    return { run, keys: deleted, jobs, active };
  });
}
