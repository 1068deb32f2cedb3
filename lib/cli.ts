#!/usr/bin/env node
// The voxqc command line.
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeCommand } from './commands/describe.js';
import { simulateCommand } from './commands/simulate.js';
import { prepareCommand, trainCommand } from './commands/train.js';
import { filterCommand } from './commands/filter.js';
import { gradeCommand } from './commands/grade.js';
import { reportCommand } from './commands/report.js';
import { queueCommand } from './commands/queue.js';
import { workerCommand } from './commands/worker.js';
import { VoxqcError } from './errors.js';
import { packageRoot } from './native/loader.js';
import { configure, runtimeInfo, VERSION } from './runtime.js';

const HELP = `voxqc ${VERSION}: quality inspection for speech data

Usage: voxqc <command> [options]

Commands:
  demo                      grade the sample clips bundled with voxqc (what npm start runs)
  describe <file|dir>...    decode clips and print format, rate, length and level (JSONL with --json)
  info                      versions, libtorch, threads, CUDA
  grade <manifest|dir>      grade clips high/medium/low into JSONL (resumable); --out FILE
                            [--report FILE] [--mode rules|model] [--grader mod.js] [--thresholds FILE]
                            [--shard i/n] [--format F] [--keys audio=K,text=K] [--ordered]
                            [--overwrite] [--retry-errors] [--fsync row|interval|end] [--quiet]
                            [--clip-timeout S] [--root DIR]
  filter <graded.jsonl>     keep clips by grade, flags, scores, in the manifest's own format; --out FILE
                            [--min-grade high|medium|low] [--exclude-flags a,b] [--where 'snrDb>15']
                            [--keep-voxqc] [--format input|graded] [--paths auto|keep|absolute]
  report <graded.jsonl>     write a self-contained HTML report; --out FILE [--worst N] [--clip-sec S]
  simulate --corpus DIR --out DIR --n N [--seed S] [--videos N]
                            plant known defects into real clips; labelled manifest
  prepare --data DIR --out DIR  measure a labelled (simulated) set for training: 16 kHz WAV,
                            rule scores, video mouth frames, speaker-disjoint split
                            [--val-fraction 0.15] [--split-seed 0]
  train --data DIR --config cfg.json --out DIR
                            train the multimodal grader (resumable); DIR may be simulate's
                            output (prepared first, into DIR/prepared) [--epochs N] [--seed S]
                            [--batch-size N] [--lr X] [--val-fraction X]
  queue submit <manifest>   split a manifest into jobs on a BullMQ queue in Redis; --redis URL
                            [--name RUN] [--chunk 200] [--thresholds FILE] [--format F] [--keys K]
  queue status [RUN]        jobs done/active/waiting/failed (with reasons), rows, audio, rate; --redis URL
  queue collect <RUN>       every graded row once, in input order; --redis URL --out FILE [--partial]
  queue remove <RUN>        delete a run (its rows, jobs and record) from Redis; --redis URL
  worker                    take grading jobs from the queue until stopped; --redis URL
                            [--jobs N] [--threads N] [--device cpu|cuda] [--grader mod.js]

Global options:
  --threads N        libtorch intra-op threads per native call (default 1)
  --jobs N           clips processed at once (default: number of cores)
  --json             machine-readable output
  -h, --help         this help
  -v, --version      the version
`;

const PLANNED = new Set<string>();

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
      // grade / filter / report
      report: { type: 'string' },
      mode: { type: 'string' },
      grader: { type: 'string' },
      thresholds: { type: 'string' },
      shard: { type: 'string' },
      format: { type: 'string' },
      keys: { type: 'string' },
      ordered: { type: 'boolean' },
      overwrite: { type: 'boolean' },
      'retry-errors': { type: 'boolean' },
      fsync: { type: 'string' },
      'clip-timeout': { type: 'string' },
      root: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      'min-grade': { type: 'string' },
      'exclude-flags': { type: 'string' },
      where: { type: 'string' },
      'keep-voxqc': { type: 'boolean' },
      paths: { type: 'string' },
      worst: { type: 'string' },
      'clip-sec': { type: 'string' },
      // simulate
      corpus: { type: 'string' },
      n: { type: 'string' },
      seed: { type: 'string' },
      videos: { type: 'string' },
      'sample-rate': { type: 'string' },
      // train
      data: { type: 'string' },
      config: { type: 'string' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      'val-fraction': { type: 'string' },
      'split-seed': { type: 'string' },
      // queue / worker
      redis: { type: 'string' },
      name: { type: 'string' },
      chunk: { type: 'string' },
      partial: { type: 'boolean' },
      device: { type: 'string' },
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
      // The main job on the bundled sample clips: grade them (the learned grader when installed,
      // else the rubric), write the graded manifest and the HTML report.
      const samples = join(packageRoot(), 'samples');
      const outDir = resolve('voxqc-out');
      await mkdir(outDir, { recursive: true });
      const out = join(outDir, 'samples.graded.jsonl');
      const report = join(outDir, 'report.html');
      console.log(`voxqc demo: grading the sample clips of ${join(samples, 'manifest.jsonl')}`);
      const code = await gradeCommand([join(samples, 'manifest.jsonl')], { out, report, overwrite: true, ordered: true, quiet: !!values.quiet, json: !!values.json });
      if (!values.json) {
        for (const line of (await readFile(out, 'utf8')).trim().split('\n')) {
          const row = JSON.parse(line) as {
            audio_filepath: string;
            voxqc: { grade?: string; flags?: string[]; error?: { message: string }; model?: { grade: Record<string, number> } };
          };
          const v = row.voxqc;
          const p = v.model && v.grade ? ` (model p=${v.model.grade[v.grade]!.toFixed(2)})` : '';
          console.log(`  ${row.audio_filepath.padEnd(40)} ${v.error ? `ERROR ${v.error.message}` : `${v.grade!.padEnd(6)} ${v.flags!.join(', ')}${p}`}`);
        }
        console.log(`results: ${out}\nreport:  ${report}`);
      }
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
    case 'grade':
      return gradeCommand(rest, values);
    case 'filter':
      return filterCommand(rest, values);
    case 'report':
      return reportCommand(rest, values);
    case 'simulate':
      return simulateCommand(values);
    case 'train':
      return trainCommand(values);
    case 'prepare':
      return prepareCommand(values);
    case 'queue':
      return queueCommand(rest, values);
    case 'worker':
      return workerCommand(rest, values);
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
