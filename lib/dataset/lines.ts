// Line-by-line streaming over files, plain or gzip, with the byte offset of every line (the resume
// scan needs offsets to cut a torn tail). Nothing holds more than one chunk plus one line.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

export interface Line {
  /** The line's text, without its '\n' (and without a trailing '\r'). */
  text: string;
  /** Byte offset of the line's first byte in the (decompressed) stream. */
  start: number;
  /** Byte offset just past the line's '\n' (or the end of the stream for an unterminated last line). */
  end: number;
  /** false for a last line with no '\n' after it. */
  terminated: boolean;
}

export function isGzipPath(path: string): boolean {
  return path.toLowerCase().endsWith('.gz');
}

/** A readable of the file's bytes, gunzipped when the name ends in .gz. */
export function openBytes(path: string): Readable {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!isGzipPath(path)) return raw;
  const gunzip = createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  return raw.pipe(gunzip);
}

/** Every line of a byte stream, with offsets. Empty lines are yielded too (callers skip them). */
export async function* readLines(stream: Readable): AsyncGenerator<Line> {
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let offset = 0; // byte offset of the start of `pending`
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, from);
      if (nl < 0) break;
      const piece = chunk.subarray(from, nl);
      const bytes = pendingLen ? Buffer.concat([...pending, piece]) : piece;
      const end = offset + bytes.length + 1;
      yield { text: stripCr(bytes.toString('utf8')), start: offset, end, terminated: true };
      offset = end;
      pending = [];
      pendingLen = 0;
      from = nl + 1;
    }
    if (from < chunk.length) {
      const rest = chunk.subarray(from);
      pending.push(Buffer.from(rest));
      pendingLen += rest.length;
    }
  }
  if (pendingLen > 0) {
    const bytes = Buffer.concat(pending);
    yield { text: stripCr(bytes.toString('utf8')), start: offset, end: offset + bytes.length, terminated: false };
  }
}

function stripCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}
