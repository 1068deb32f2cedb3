#!/usr/bin/env node
// The voxqc command line.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeCommand } from './commands/describe.js';
import { VoxqcError } from './errors.js';
import { packageRoot } from './native/loader.js';
import { configure, runtimeInfo, VERSION } from './runtime.js';

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
