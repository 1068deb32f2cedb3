#!/usr/bin/env node
// The voxqc command line.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeFiles, type DescribeResult } from './describe.js';
import { VoxqcError } from './errors.js';
import { packageRoot } from './native/loader.js';
import { configure, runtimeInfo, VERSION } from './runtime.js';

const AUDIO_EXTENSIONS = new Set(['.wav', '.flac', '.mp3', '.ogg', '.opus', '.m4a', '.aac', '.mp4', '.mkv', '.webm', '.mpg', '.mov']);

const HELP = `voxqc ${VERSION}: quality inspection for speech data

Usage: voxqc <command> [options]

Commands:
  demo                      decode and describe the sample clips bundled with voxqc
  describe <file|dir>...    decode clips and print format, rate, length and level (JSONL with --json)
  info                      versions, libtorch, threads, CUDA
  grade <manifest>          grade clips high/medium/low            (not in this version yet)
  filter <graded.jsonl>     keep clips by grade, flags, scores     (not in this version yet)
  report <graded.jsonl>     write an HTML report                   (not in this version yet)
  simulate                  plant known defects into clean clips   (not in this version yet)
  train                     train the multimodal grader            (not in this version yet)
  queue | worker            spread grading over machines (BullMQ)  (not in this version yet)

Global options:
  --threads N        libtorch intra-op threads per native call (default 1)
  --jobs N           clips processed at once (default: number of cores)
  --json             machine-readable output
  -h, --help         this help
  -v, --version      the version
`;

const PLANNED = new Set(['grade', 'filter', 'report', 'simulate', 'train', 'queue', 'worker']);

async function listAudio(target: string): Promise<string[]> {
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

async function describeCommand(targets: string[], json: boolean, outFile?: string): Promise<number> {
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

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      json: { type: 'boolean' },
      threads: { type: 'string' },
      jobs: { type: 'string' },
      out: { type: 'string', short: 'o' },
    },
  });
  if (values.version) {
    console.log(VERSION);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(HELP);
    return command || values.help ? 0 : 2;
  }
  const intOption = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new VoxqcError('ERR_INVALID_ARG', `--${name}: expected a positive integer, received '${v}'`);
    return n;
  };
  configure({
    ...(values.threads ? { threads: intOption('threads', values.threads) } : {}),
    ...(values.jobs ? { concurrency: intOption('jobs', values.jobs) } : {}),
  });

  switch (command) {
    case 'demo': {
      const samples = join(packageRoot(), 'samples');
      const outDir = resolve('voxqc-out');
      await mkdir(outDir, { recursive: true });
      const outFile = join(outDir, 'demo.jsonl');
      console.log(`voxqc demo: describing the sample clips in ${samples}`);
      const code = await describeCommand([samples], !!values.json, outFile);
      return code;
    }
    case 'describe':
      if (rest.length === 0) throw new VoxqcError('ERR_INVALID_ARG', 'describe: name at least one file or directory');
      return describeCommand(rest, !!values.json, values.out);
    case 'info': {
      const info = await runtimeInfo();
      console.log(values.json ? JSON.stringify(info) : Object.entries(info).map(([k, v]) => `${k}: ${v}`).join('\n'));
      return 0;
    }
    default:
      if (PLANNED.has(command)) {
        console.error(`voxqc ${command}: not available in voxqc ${VERSION} yet.`);
        return 2;
      }
      console.error(`voxqc: unknown command '${command}'. See voxqc --help.`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof VoxqcError) {
      console.error(`voxqc: ${err.message}`);
      process.exitCode = err.code === 'ERR_INVALID_ARG' ? 2 : 1;
    } else if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`voxqc: ${(err as Error).message}. See voxqc --help.`);
      process.exitCode = 2;
    } else {
      console.error(err);
      process.exitCode = 1;
    }
  },
);
