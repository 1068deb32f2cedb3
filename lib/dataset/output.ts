// The graded output: JSONL appended one row per write(2) call, and the resume scan that reads it
// back, repairs a torn tail and says which rows are done.
//
// Durability: each row is one write(2) of the whole line (O_APPEND). Once write returns, the line
// is in the kernel's page cache, which survives the process being killed (kill -9, OOM killer,
// a crash): a killed run loses no row it had finished. Power loss or a kernel crash can lose what
// was not yet on disk, and may leave a torn or zero-filled tail: `fsync` sets how often the file
// is flushed to the device ('row': after every row, the safest and slowest; 'interval' (default):
// at most every second, so a power cut loses at most about a second of rows; 'end': only at the
// end). Whatever the tail looks like, the resume scan keeps every complete valid row, drops the
// rest, and those rows are graded again.
import { closeSync, constants, fdatasync, fdatasyncSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { open, stat, truncate, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { VoxqcError } from '../errors.js';
import { openBytes, readLines } from './lines.js';

export type FsyncPolicy = 'row' | 'interval' | 'end';

/** Appends lines to a file, each in a single write. */
export class LineWriter {
  private fd = -1;
  private dirty = false;
  private syncing = false;
  private lastSync = Date.now();
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  /** The file is opened (created) at the first write. */
  constructor(readonly path: string, private readonly fsync: FsyncPolicy = 'interval', private readonly intervalMs = 1000) {}

  /** Appends `line` + '\n'. */
  write(line: string): void {
    if (this.closed) throw new Error('LineWriter: write after close');
    if (this.fd < 0) this.fd = openSync(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
    const buf = Buffer.from(line + '\n', 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    this.dirty = true;
    if (this.fsync === 'row') {
      fdatasyncSync(this.fd);
      this.dirty = false;
    } else if (this.fsync === 'interval') {
      if (Date.now() - this.lastSync >= this.intervalMs) this.syncSoon();
      // Rows written just before a pause are flushed by the timer, not only by the next write.
      this.timer ??= setInterval(() => this.syncSoon(), this.intervalMs).unref();
    }
  }

  private syncSoon(): void {
    if (!this.dirty || this.syncing || this.closed) return;
    this.syncing = true;
    this.dirty = false;
    fdatasync(this.fd, () => {
      this.syncing = false;
      this.lastSync = Date.now();
    });
  }

  /** Flushes to the device and closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.fd < 0) return;
    while (this.syncing) await new Promise((r) => setTimeout(r, 5));
    if (this.dirty) fdatasyncSync(this.fd);
    closeSync(this.fd);
  }
}

/** A count of ids: how many output rows each id has. */
export class IdCounts {
  private map = new Map<string, number>();
  size = 0;
  add(id: string): void {
    this.map.set(id, (this.map.get(id) ?? 0) + 1);
    this.size++;
  }
  /** Takes one occurrence of `id` when there is one (true), else false. */
  take(id: string): boolean {
    const n = this.map.get(id);
    if (!n) return false;
    if (n === 1) this.map.delete(id);
    else this.map.set(id, n - 1);
    this.size--;
    return true;
  }
  clone(): IdCounts {
    const c = new IdCounts();
    c.map = new Map(this.map);
    c.size = this.size;
    return c;
  }
}

export interface ScanResult {
  /** Ids of the finished rows in the output (error rows included unless retryErrors). */
  done: IdCounts;
  rows: number;
  failed: number;
  audioSec: number;
  byGrade: Record<string, number>;
  errors: Record<string, number>;
  /** What the scan had to repair. */
  repaired: { truncatedBytes: number; droppedLines: number; droppedErrorRows: number };
}

interface GradedLike {
  voxqc?: { id?: unknown; error?: { code?: unknown }; grade?: unknown; audioSec?: unknown };
}

function parseGraded(text: string): GradedLike | undefined {
  if (text.trim() === '') return undefined;
  try {
    const obj = JSON.parse(text) as GradedLike;
    if (typeof obj !== 'object' || obj === null || typeof obj.voxqc !== 'object' || obj.voxqc === null) return undefined;
    if (typeof obj.voxqc.id !== 'string') return undefined;
    return obj;
  } catch {
    return undefined;
  }
}

/**
 * Reads an existing output: the finished rows and their ids. A torn or garbage tail (the last
 * line(s) after a crash) is cut off. Invalid lines in the middle (a power cut with lost blocks),
 * and error rows when `retryErrors`, are removed by rewriting the file (temp file + rename).
 */
export async function scanOutput(path: string, options: { retryErrors?: boolean } = {}): Promise<ScanResult> {
  const result: ScanResult = {
    done: new IdCounts(),
    rows: 0,
    failed: 0,
    audioSec: 0,
    byGrade: {},
    errors: {},
    repaired: { truncatedBytes: 0, droppedLines: 0, droppedErrorRows: 0 },
  };
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return result;
    throw err;
  }
  if (size === 0) return result;
  let goodEnd = 0; // end offset of the last valid line
  let badInMiddle = false;
  let badSinceGood = 0;
  let lastTerminated = true;
  let errorRows = 0;
  for await (const line of readLines(openBytes(path))) {
    if (line.text.trim() === '' && line.terminated) {
      if (badSinceGood === 0) goodEnd = line.end;
      continue;
    }
    const g = parseGraded(line.text);
    if (!g) {
      badSinceGood++;
      continue;
    }
    if (badSinceGood > 0) {
      badInMiddle = true;
      result.repaired.droppedLines += badSinceGood;
      badSinceGood = 0;
    }
    goodEnd = line.end;
    lastTerminated = line.terminated;
    if (g.voxqc!.error) {
      errorRows++;
      if (options.retryErrors) continue;
    }
    count(result, g);
  }
  if (badSinceGood > 0) {
    result.repaired.droppedLines += badSinceGood;
    result.repaired.truncatedBytes = size - goodEnd;
  }
  if (badInMiddle || (options.retryErrors && errorRows > 0)) {
    if (options.retryErrors) result.repaired.droppedErrorRows = errorRows;
    await rewriteValid(path, !!options.retryErrors);
  } else if (goodEnd < size) {
    await truncate(path, goodEnd);
  } else if (!lastTerminated) {
    const h = await open(path, 'a');
    await h.write('\n');
    await h.close();
  }
  return result;
}

function count(result: ScanResult, g: GradedLike): void {
  const v = g.voxqc!;
  result.done.add(v.id as string);
  result.rows++;
  if (typeof v.audioSec === 'number') result.audioSec += v.audioSec;
  if (v.error) {
    result.failed++;
    const code = typeof v.error.code === 'string' ? v.error.code : 'ERR_UNKNOWN';
    result.errors[code] = (result.errors[code] ?? 0) + 1;
  } else if (typeof v.grade === 'string') {
    result.byGrade[v.grade] = (result.byGrade[v.grade] ?? 0) + 1;
  }
}

/** Rewrites `path` with only its valid rows (and without error rows when asked), atomically. */
async function rewriteValid(path: string, dropErrors: boolean): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.repair-${process.pid}`);
  const w = new LineWriter(tmp, 'end');
  try {
    for await (const line of readLines(openBytes(path))) {
      const g = parseGraded(line.text);
      if (!g || (dropErrors && g.voxqc!.error)) continue;
      w.write(line.text);
    }
    await w.close();
    renameSync(tmp, path);
    syncDir(dirname(path));
  } catch (err) {
    await w.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw new VoxqcError('ERR_NATIVE', `${path}: could not repair the output: ${(err as Error).message}`, { file: path, cause: err });
  }
}

export function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename is then as durable as they allow.
  }
}
