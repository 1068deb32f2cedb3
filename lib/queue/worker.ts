// createWorker: a BullMQ worker that takes jobs (chunks of a run's rows), grades their rows with
// the same code path as `voxqc grade`, and stores each row in Redis as soon as it is graded,
// keyed by the row's position in the manifest: a retried job overwrites (never duplicates), and
// skips the rows a killed worker had already stored.
import { hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { VoxqcError } from '../errors.js';
import { loadGraderModule, type GradeMode } from '../dataset/grader.js';
import type { GradedRow } from '../dataset/grade.js';
import type { ClipGrader } from '../grading.js';
import { getConfig, runtimeInfo } from '../runtime.js';
import { checkInteger, checkOneOf, checkOptions, invalid } from '../validate.js';
import {
  bullConnection, checkPrefix, checkRedis, connect, Keys, QUEUE_NAME, readMeta, STORE_ROW_LUA,
  type QueueBaseOptions, type RunMeta,
} from './redis.js';
import { errorRow, gradeRows, type JobData } from './rows.js';

export type WorkerDevice = 'cpu' | 'cuda';

export interface CreateWorkerOptions extends QueueBaseOptions {
  /** The grader: a ClipGrader, or the path of a grader module (default export). Default: `mode`'s. */
  grader?: ClipGrader | string;
  /** 'rules' (default). Ignored with `grader`. */
  mode?: GradeMode;
  /** Clips graded at once within a job. Default: configure()'s concurrency. */
  concurrency?: number;
  /** Jobs (chunks) worked on at once. Default 1 (the clips of a job are graded `concurrency` at once). */
  parallelJobs?: number;
  /** 'cpu' (default) or 'cuda' (refused by a build without CUDA). */
  device?: WorkerDevice;
  /** How long a job's lock lasts without renewal (renewed every half of it while the worker
   *  lives). A killed worker's job is taken again after about this long, plus the stall check.
   *  Default: $VOXQC_QUEUE_LOCK_MS, else 30000. */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (of dead workers). Default: the lock duration. */
  stalledIntervalMs?: number;
  /** How many times a job may stall (its worker died) before it is failed. Default 3. */
  maxStalledCount?: number;
  /** A clip that a worker began grading this many times without finishing (the worker died on
   *  it: a crash, the OOM killer) gets an error row (ERR_NATIVE) instead of a new try, so a
   *  poison clip fails its row, not its job. Default: $VOXQC_QUEUE_MAX_CLIP_TRIES, else 2. */
  maxClipTries?: number;
  /** Shown in job records (job.processedBy). Default host:pid. */
  name?: string;
  /** Each row as it is stored. */
  onRow?: (row: GradedRow, job: { run: string; chunk: number }) => void;
  /** Each job finished (completed, or failed: this attempt). */
  onJob?: (report: JobReport) => void;
  /** Connection trouble and other errors that do not stop the worker. */
  onError?: (err: Error) => void;
}

export interface JobReport {
  run: string;
  chunk: number;
  jobId: string;
  /** 'completed', or 'failed' (this attempt; `final` when no retry is left). */
  state: 'completed' | 'failed';
  final?: boolean;
  /** Rows of the chunk; rows graded by this attempt; rows found stored already (an earlier attempt). */
  rows: number;
  graded: number;
  skipped: number;
  /** Rows that are error rows (of those graded by this attempt). */
  failed: number;
  audioSec: number;
  elapsedSec: number;
  attempt: number;
  error?: string;
}

export interface QueueWorker {
  /** host:pid (or the name given). */
  readonly name: string;
  /** Resolves when the worker has connected and is taking jobs. */
  readonly ready: Promise<void>;
  /** Resolves when the worker has stopped: closed, or stopped by a fatal error (then rejects). */
  readonly done: Promise<void>;
  /** Stops taking jobs, lets the jobs in flight finish (force: stops them now; they are taken
   *  again by another worker once their lock expires), disconnects. */
  close(options?: { force?: boolean }): Promise<void>;
}

const KNOWN = [
  'redis', 'prefix', 'grader', 'mode', 'concurrency', 'parallelJobs', 'device', 'lockDurationMs', 'stalledIntervalMs', 'maxStalledCount', 'maxClipTries', 'name',
  'onRow', 'onJob', 'onError',
] as const;

/** Refuses a device this build cannot use. */
export async function checkDevice(where: string, device: unknown): Promise<WorkerDevice> {
  if (device === undefined) return 'cpu';
  const d = checkOneOf(where, 'device', device, ['cpu', 'cuda'] as const);
  if (d === 'cuda') {
    const info = await runtimeInfo();
    if (!info.cudaCompiled) {
      throw new VoxqcError('ERR_UNSUPPORTED', `${where}: --device cuda: this build has no CUDA (libtorch ${info.torchVersion}, CPU only); use --device cpu, or a voxqc built with CUDA`);
    }
    if (!info.cudaAvailable) throw new VoxqcError('ERR_UNSUPPORTED', `${where}: --device cuda: this build has CUDA, but no CUDA device is usable here`);
  }
  return d;
}

function envLockMs(): number | undefined {
  const v = process.env.VOXQC_QUEUE_LOCK_MS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 200) throw new VoxqcError('ERR_INVALID_ARG', `VOXQC_QUEUE_LOCK_MS: expected milliseconds (an integer ≥ 200), received '${v}'`);
  return n;
}

/** Errors that are the worker's, not the job's: no clip can be graded here. The worker stops. */
function isWorkerFatal(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'ERR_NATIVE_LOAD' || code === 'ERR_UNSUPPORTED';
}

/**
 * Starts a worker on the queue at `redis`. It takes jobs until closed; Redis outages are waited
 * through (it reconnects and carries on).
 */
export async function createWorker(options: CreateWorkerOptions): Promise<QueueWorker> {
  const where = 'createWorker';
  const o = checkOptions<CreateWorkerOptions>(where, options, KNOWN);
  const redis = checkRedis(where, o.redis);
  const prefix = checkPrefix(where, o.prefix);
  await checkDevice(where, o.device);
  if (o.mode !== undefined) checkOneOf(where, 'mode', o.mode, ['rules', 'model'] as const);
  let grader: ClipGrader | undefined;
  if (typeof o.grader === 'string') grader = await loadGraderModule(o.grader);
  else if (typeof o.grader === 'function') grader = o.grader;
  else if (o.grader !== undefined) throw invalid(where, 'grader', 'a ClipGrader function or a module path', o.grader);
  if (!grader && o.mode === 'model') {
    throw new VoxqcError('ERR_UNSUPPORTED', `${where}: mode model: the learned grader is not available in this version (use mode rules, or a grader module)`);
  }
  const concurrency = o.concurrency === undefined ? getConfig().concurrency : checkInteger(where, 'concurrency', o.concurrency, 1, 1024);
  const jobsAtOnce = o.parallelJobs === undefined ? 1 : checkInteger(where, 'parallelJobs', o.parallelJobs, 1, 64);
  const lockDuration = o.lockDurationMs === undefined ? envLockMs() ?? 30000 : checkInteger(where, 'lockDurationMs', o.lockDurationMs, 200, 3600000);
  const stalledInterval = o.stalledIntervalMs === undefined ? lockDuration : checkInteger(where, 'stalledIntervalMs', o.stalledIntervalMs, 100, 3600000);
  const maxStalledCount = o.maxStalledCount === undefined ? 3 : checkInteger(where, 'maxStalledCount', o.maxStalledCount, 0, 100);
  const envTries = process.env.VOXQC_QUEUE_MAX_CLIP_TRIES ? Number(process.env.VOXQC_QUEUE_MAX_CLIP_TRIES) : 2;
  const maxClipTries = checkInteger(where, 'maxClipTries', o.maxClipTries ?? envTries, 1, 100);
  for (const cb of ['onRow', 'onJob', 'onError'] as const) if (o[cb] !== undefined && typeof o[cb] !== 'function') throw invalid(where, cb, 'a function', o[cb]);
  const name = o.name ?? `${hostname()}:${process.pid}`;
  const onError = (err: Error) => o.onError?.(err);

  const keys = new Keys(prefix);
  const client: Redis = connect(redis, true);
  client.defineCommand('voxqcStoreRow', { numberOfKeys: 2, lua: STORE_ROW_LUA });
  const storeRow = (client as unknown as { voxqcStoreRow(...a: (string | number)[]): Promise<number> }).voxqcStoreRow.bind(client);
  const metas = new Map<string, RunMeta>();
  const controllers = new Set<AbortController>();
  let fatal: unknown;

  const process_ = async (job: Job<JobData>, _token?: string, signal?: AbortSignal): Promise<{ rows: number; graded: number; skipped: number }> => {
    const t0 = performance.now();
    const { run, chunk, rows } = job.data;
    const report: JobReport = {
      run, chunk, jobId: job.id ?? '', state: 'completed', rows: rows.length, graded: 0, skipped: 0, failed: 0, audioSec: 0, elapsedSec: 0,
      attempt: job.attemptsMade + 1,
    };
    const controller = new AbortController();
    controllers.add(controller);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let meta = metas.get(run);
      if (!meta) {
        meta = await readMeta(client, keys, run);
        if (!meta) throw new Error(`run '${run}' has no record in Redis (removed?)`);
        metas.set(run, meta);
      }
      const rowsKey = keys.rows(run, chunk);
      const statsKey = keys.stats(run);
      await client.hsetnx(statsKey, 'startedAt', String(Date.now()));
      // Rows stored by an earlier attempt (a killed worker, a lost lock) are not graded again.
      const stored = new Set((await client.hkeys(rowsKey)).map(Number));
      let todo = rows.filter((r) => !stored.has(r.index));
      report.skipped = rows.length - todo.length;
      const triesKey = keys.tries(run, chunk);
      const tries = await client.hgetall(triesKey);
      const writes: Promise<unknown>[] = [];
      let writeError: unknown;
      const onRow = (row: GradedRow) => {
        const v = row.voxqc;
        const outcome = v.error ? `error:${v.error.code}` : `grade:${v.grade}`;
        report.graded++;
        if (v.error) report.failed++;
        if (v.audioSec !== undefined) report.audioSec += v.audioSec;
        writes.push(
          storeRow(rowsKey, statsKey, v.input.index, JSON.stringify(row), v.audioSec === undefined ? '' : String(v.audioSec), outcome, Date.now()).catch((err) => {
            writeError ??= err;
          }),
        );
        o.onRow?.(row, { run, chunk });
      };
      // Rows whose clip took down a worker `maxClipTries` times: error rows, not graded again.
      const poison = todo.filter((r) => r.clip && !r.error && Number(tries[r.index] ?? 0) >= maxClipTries);
      if (poison.length) {
        const skip = new Set(poison.map((r) => r.index));
        todo = todo.filter((r) => !skip.has(r.index));
        for (const r of poison) {
          const n = Number(tries[r.index]);
          onRow(errorRow(job.data, r, { code: 'ERR_NATIVE', message: `${r.clip!.audio}: not graded: the workers grading this clip died ${n} times (a crash, or killed)` }));
        }
      }
      const { aborted } = await gradeRows(job.data, todo, {
        ...(grader ? { grader } : { mode: o.mode ?? 'rules' }),
        concurrency,
        ...(meta.thresholds ? { thresholds: meta.thresholds } : {}),
        signal: controller.signal,
        onRow,
        beforeClip: async (row) => {
          await client.hincrby(triesKey, String(row.index), 1);
        },
      });
      await Promise.all(writes);
      if (writeError) throw writeError;
      if (aborted) throw new Error('stopped before the end of the chunk (worker closing); the rows graded are kept');
      await client.multi().sadd(keys.done(run), String(chunk)).del(triesKey).exec();
      report.elapsedSec = (performance.now() - t0) / 1000;
      o.onJob?.(report);
      return { rows: rows.length, graded: report.graded, skipped: report.skipped };
    } catch (err) {
      report.state = 'failed';
      report.error = (err as Error)?.message ?? String(err);
      report.final = report.attempt >= (job.opts.attempts ?? 1) && !isWorkerFatal(err);
      report.elapsedSec = (performance.now() - t0) / 1000;
      o.onJob?.(report);
      if (isWorkerFatal(err)) {
        // Not this job's fault: stop this worker (the job is retried, by another worker).
        fatal ??= err;
        setImmediate(() => void stop(true));
      }
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      controllers.delete(controller);
    }
  };

  const worker = new Worker<JobData>(QUEUE_NAME, process_, {
    connection: bullConnection(redis, true) as never,
    prefix,
    name,
    concurrency: jobsAtOnce,
    lockDuration,
    stalledInterval,
    maxStalledCount,
    // Short long-polls: an idle worker notices a restarted Redis soon.
    drainDelay: 2,
    autorun: false,
  });
  worker.on('error', onError);
  client.on('error', onError);
  worker.on('failed', (job, err) => {
    // A job failed by the stall check (its workers died too often) is reported here too.
    if (job && /stalled/i.test(err?.message ?? '')) onError(new Error(`job ${job.id} failed: ${err.message}`));
  });

  let stopping: Promise<void> | undefined;
  let resolveDone!: () => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  done.catch(() => {});
  const stop = (force: boolean): Promise<void> => {
    if (force) for (const c of controllers) c.abort(new Error('worker closing'));
    stopping ??= (async () => {
      try {
        await worker.close(force);
      } catch (err) {
        onError(err as Error);
      }
      client.disconnect();
      if (fatal) rejectDone(fatal);
      else resolveDone();
    })();
    return stopping;
  };

  const running = worker.run();
  running.catch((err) => {
    fatal ??= err;
    void stop(true);
  });
  const ready = worker.waitUntilReady().then(() => undefined);
  ready.catch(() => {});
  return {
    name,
    ready,
    done,
    close: (opts = {}) => stop(!!opts.force),
  };
}
