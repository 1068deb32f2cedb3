// Redis connections, key names and the small Lua scripts of voxqc's cluster runs (BullMQ on Redis).
//
// Layout (prefix default 'voxqc'):
//   <prefix>:grade:*                   the BullMQ queue 'grade' (one job per chunk of a run; job id '<run>.<chunk>')
//   <prefix>:runs                      set of run names
//   <prefix>:run:<run>:meta            hash: the run (manifest, rows, chunk size, thresholds…)
//   <prefix>:run:<run>:stats           hash: rows stored, failed rows, audio seconds, grades, times
//   <prefix>:run:<run>:done            set of the chunks finished
//   <prefix>:run:<run>:rows:<chunk>    hash: row index → the graded row (JSON), exactly as `voxqc grade` writes it
//   <prefix>:run:<run>:tries:<chunk>   hash: row index → grading attempts begun (while the chunk runs)
import { Redis, type RedisOptions } from 'ioredis';
import { VoxqcError } from '../errors.js';
import { invalid } from '../validate.js';

export const QUEUE_NAME = 'grade';
export const DEFAULT_PREFIX = 'voxqc';

/** Where Redis is: a URL (redis://host:port/db, rediss:// for TLS) or ioredis options. */
export type RedisConnection = string | RedisOptions;

export interface QueueBaseOptions {
  /** Redis: 'redis://127.0.0.1:6379' or ioredis options. */
  redis: RedisConnection;
  /** Key prefix (namespace) in Redis. Default 'voxqc'. */
  prefix?: string;
}

const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export function checkRunName(where: string, name: unknown): string {
  if (typeof name !== 'string' || !RUN_NAME.test(name)) {
    throw invalid(where, 'run name', "1–100 characters of letters, digits, '_', '.', '-' (starting with a letter or digit)", name);
  }
  return name;
}

export function checkPrefix(where: string, prefix: unknown): string {
  if (prefix === undefined) return DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.{}-]{1,64}$/.test(prefix)) throw invalid(where, 'prefix', 'a short key prefix like voxqc', prefix);
  return prefix;
}

export function checkRedis(where: string, redis: unknown): RedisConnection {
  if (typeof redis === 'string') {
    if (!/^rediss?:\/\//.test(redis)) throw invalid(where, 'redis', 'a URL like redis://127.0.0.1:6379', redis);
    return redis;
  }
  if (typeof redis === 'object' && redis !== null && !Array.isArray(redis)) return redis as RedisOptions;
  throw invalid(where, 'redis', 'a URL like redis://127.0.0.1:6379 or ioredis options', redis);
}

/** The address for messages (no password). */
export function describeRedis(redis: RedisConnection): string {
  if (typeof redis === 'string') return redis.replace(/\/\/[^@/]*@/, '//***@');
  return `${redis.host ?? '127.0.0.1'}:${redis.port ?? 6379}`;
}

/** Connection options for BullMQ. Workers wait through Redis outages (maxRetriesPerRequest null). */
export function bullConnection(redis: RedisConnection, patient: boolean): Record<string, unknown> {
  const extra = {
    maxRetriesPerRequest: patient ? null : 2,
    enableOfflineQueue: true,
    connectionName: `voxqc-${process.pid}`,
    // Reconnect soon after an outage (ioredis' default grows to 2 s; keep it at most 1 s).
    retryStrategy: (times: number) => Math.min(50 * times, 1000),
  };
  return typeof redis === 'string' ? { url: redis, ...extra } : { ...redis, ...extra };
}

/** A plain ioredis client. `patient`: commands wait for Redis to come back (workers); else they fail soon. */
export function connect(redis: RedisConnection, patient: boolean): Redis {
  const opts: RedisOptions = {
    maxRetriesPerRequest: patient ? null : 2,
    enableOfflineQueue: true,
    connectionName: `voxqc-${process.pid}`,
    retryStrategy: (times: number) => Math.min(50 * times, 1000),
    lazyConnect: false,
  };
  const client = typeof redis === 'string' ? new Redis(redis, opts) : new Redis({ ...redis, ...opts });
  // Errors are reported by the commands that fail; a reconnecting client must not crash the process.
  client.on('error', () => {});
  return client;
}

/** Fails with a clear message when Redis cannot be reached within `ms`. */
export async function ping(client: Redis, redis: RedisConnection, where: string, ms = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms);
      }),
    ]);
  } catch (err) {
    throw new VoxqcError('ERR_NOT_FOUND', `${where}: cannot reach Redis at ${describeRedis(redis)} (${(err as Error).message})`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

export class Keys {
  constructor(readonly prefix: string) {}
  runs(): string {
    return `${this.prefix}:runs`;
  }
  meta(run: string): string {
    return `${this.prefix}:run:${run}:meta`;
  }
  stats(run: string): string {
    return `${this.prefix}:run:${run}:stats`;
  }
  done(run: string): string {
    return `${this.prefix}:run:${run}:done`;
  }
  rows(run: string, chunk: number): string {
    return `${this.prefix}:run:${run}:rows:${chunk}`;
  }
  /** hash: row index → how many times a worker began grading it (a clip that kills workers). */
  tries(run: string, chunk: number): string {
    return `${this.prefix}:run:${run}:tries:${chunk}`;
  }
  /** The BullMQ key of a job (to test whether it exists). */
  job(jobId: string): string {
    return `${this.prefix}:${QUEUE_NAME}:${jobId}`;
  }
}

export function jobIdOf(run: string, chunk: number): string {
  return `${run}.${chunk}`;
}

/** Run and chunk from a job id. */
export function parseJobId(id: string): { run: string; chunk: number } | undefined {
  const dot = id.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const chunk = Number(id.slice(dot + 1));
  return Number.isInteger(chunk) && chunk >= 0 ? { run: id.slice(0, dot), chunk } : undefined;
}

/** Stores one graded row; counts it in the stats only the first time (a retried job overwrites). */
export const STORE_ROW_LUA = `
local new = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if new == 1 then
  redis.call('HINCRBY', KEYS[2], 'rows', 1)
  if ARGV[3] ~= '' then redis.call('HINCRBYFLOAT', KEYS[2], 'audioSec', ARGV[3]) end
  redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
  if string.sub(ARGV[4], 1, 6) == 'error:' then redis.call('HINCRBY', KEYS[2], 'failed', 1) end
end
redis.call('HSET', KEYS[2], 'lastAt', ARGV[5])
return new
`;

export interface RunMeta {
  name: string;
  /** Absolute path of the manifest (or folder). */
  input: string;
  format?: string;
  rows: number;
  chunks: number;
  chunkSize: number;
  /** Seconds of audio of the manifest, when every row says (else undefined). */
  totalAudioSec?: number;
  /** sha1 over the rows' ids and lines: the same manifest gives the same signature. */
  signature: string;
  thresholds?: Record<string, unknown>;
  createdAt: string;
}

export async function readMeta(client: Redis, keys: Keys, run: string): Promise<RunMeta | undefined> {
  const h = await client.hgetall(keys.meta(run));
  if (!h || !h.name) return undefined;
  const meta: RunMeta = {
    name: h.name,
    input: h.input ?? '',
    rows: Number(h.rows),
    chunks: Number(h.chunks),
    chunkSize: Number(h.chunkSize),
    signature: h.signature ?? '',
    createdAt: h.createdAt ?? '',
  };
  if (h.format) meta.format = h.format;
  if (h.totalAudioSec) meta.totalAudioSec = Number(h.totalAudioSec);
  if (h.thresholds) meta.thresholds = JSON.parse(h.thresholds) as Record<string, unknown>;
  return meta;
}

export function metaHash(meta: RunMeta): Record<string, string> {
  const h: Record<string, string> = {
    name: meta.name,
    input: meta.input,
    rows: String(meta.rows),
    chunks: String(meta.chunks),
    chunkSize: String(meta.chunkSize),
    signature: meta.signature,
    createdAt: meta.createdAt,
  };
  if (meta.format) h.format = meta.format;
  if (meta.totalAudioSec !== undefined) h.totalAudioSec = String(meta.totalAudioSec);
  if (meta.thresholds) h.thresholds = JSON.stringify(meta.thresholds);
  return h;
}

export function noSuchRun(where: string, run: string, redis: RedisConnection): VoxqcError {
  return new VoxqcError('ERR_NOT_FOUND', `${where}: no run '${run}' in Redis at ${describeRedis(redis)} (submit it with voxqc queue submit)`);
}
