// Sharding: split one manifest over n runs (machines, processes). Shard i of n (1-based, as
// jest's and playwright's --shard) takes the rows whose index (default) or id hash falls in it.
// The split is deterministic: the same manifest always gives the same partition, and the union of
// the n shards is the whole manifest with no row twice.
import { createHash } from 'node:crypto';
import { VoxqcError } from '../errors.js';

export interface Shard {
  /** 1-based: 1..count. */
  index: number;
  count: number;
  /** 'index' (default): row i goes to shard (i mod count) + 1. 'id': by a hash of the row's id,
   *  so a row keeps its shard when the manifest is reordered or grows. */
  by?: 'index' | 'id';
}

export function parseShard(where: string, spec: unknown): Shard | undefined {
  if (spec === undefined) return undefined;
  let shard: Shard;
  if (typeof spec === 'string') {
    const m = /^\s*(\d+)\s*\/\s*(\d+)\s*(?::\s*(index|id))?\s*$/.exec(spec);
    if (!m) throw new VoxqcError('ERR_INVALID_ARG', `${where}: expected shard to be 'i/n' (1 ≤ i ≤ n, e.g. '2/8', optionally ':id'), but received '${spec}'`);
    shard = { index: Number(m[1]), count: Number(m[2]), by: (m[3] as 'index' | 'id' | undefined) ?? 'index' };
  } else if (typeof spec === 'object' && spec !== null) {
    shard = spec as Shard;
  } else {
    throw new VoxqcError('ERR_INVALID_ARG', `${where}: expected shard to be 'i/n' or { index, count }, but received ${String(spec)}`);
  }
  const { index, count, by = 'index' } = shard;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 1 || index > count) {
    throw new VoxqcError('ERR_INVALID_ARG', `${where}: expected shard i/n with integers 1 ≤ i ≤ n, but received ${index}/${count}`);
  }
  if (by !== 'index' && by !== 'id') throw new VoxqcError('ERR_INVALID_ARG', `${where}: expected shard.by to be 'index' or 'id', but received '${String(by)}'`);
  return { index, count, by };
}

function idHash(id: string): number {
  return createHash('sha1').update(id).digest().readUInt32BE(0);
}

export function inShard(shard: Shard | undefined, rowIndex: number, id: string): boolean {
  if (!shard || shard.count === 1) return true;
  const slot = shard.by === 'id' ? idHash(id) % shard.count : rowIndex % shard.count;
  return slot === shard.index - 1;
}
