// voxqc describe / demo: decode clips and print what they are.
import { readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describeFiles, type DescribeResult } from '../describe.js';
import { VoxqcError } from '../errors.js';

export const AUDIO_EXTENSIONS = new Set(['.wav', '.flac', '.mp3', '.ogg', '.opus', '.m4a', '.aac', '.mp4', '.mkv', '.webm', '.mpg', '.mov']);

export async function listAudio(target: string): Promise<string[]> {
  const entries = await readdir(target, { withFileTypes: true, recursive: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOTDIR') return null;
    if (err.code === 'ENOENT') throw new VoxqcError('ERR_NOT_FOUND', `${target}: no such file or directory`, { file: target });
    throw err;
  });
  if (entries === null) return [target];
  return entries
    .filter((e) => e.isFile() && AUDIO_EXTENSIONS.has(e.name.slice(e.name.lastIndexOf('.')).toLowerCase()))
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort();
}

function formatRow(r: DescribeResult, base: string): string {
  const name = relative(base, r.path) || r.path;
  if ('error' in r) return `  ${name.padEnd(44)} ERROR ${r.error.code}: ${r.error.message}`;
  const level = Number.isFinite(r.rmsDbfs) ? r.rmsDbfs.toFixed(1) : '-inf';
  return `  ${name.padEnd(44)} ${r.encoding.padEnd(18)} ${String(r.sampleRate).padStart(6)} Hz ${r.channels} ch ${r.durationSec
    .toFixed(2)
    .padStart(7)} s  rms ${level.padStart(6)} dBFS`;
}

export async function describeCommand(targets: string[], json: boolean, outFile?: string): Promise<number> {
  const files = (await Promise.all(targets.map(listAudio))).flat();
  if (files.length === 0) throw new VoxqcError('ERR_INVALID_ARG', `no audio files found in ${targets.join(', ')}`);
  const base = process.cwd();
  const started = performance.now();
  const results = await describeFiles(files, (r) => {
    if (json) process.stdout.write(JSON.stringify(r) + '\n');
  });
  const seconds = (performance.now() - started) / 1000;
  const failed = results.filter((r) => 'error' in r).length;
  const audioSec = results.reduce((s, r) => s + ('error' in r ? 0 : r.durationSec), 0);
  if (!json) {
    for (const r of results) console.log(formatRow(r, base));
    console.log(
      `${results.length} clips, ${(audioSec / 60).toFixed(1)} min of audio, ${failed} failed, in ${seconds.toFixed(2)} s` +
        ` (${(audioSec / seconds).toFixed(0)}x real time)`,
    );
  }
  if (outFile) {
    await writeFile(outFile, results.map((r) => JSON.stringify(r)).join('\n') + '\n');
    if (!json) console.log(`results: ${outFile}`);
  }
  return failed > 0 ? 1 : 0;
}

