// Progress of a grade run on the terminal: a bar on a TTY (cli-progress), plain lines every few
// seconds otherwise, JSON events with --json, nothing with --quiet.
import cliProgress from 'cli-progress';
import type { GradeProgress, GradedRow, GradeSummary } from './grade.js';

export type ProgressStyle = 'bar' | 'lines' | 'json' | 'quiet';

export function formatSeconds(sec: number | undefined): string {
  if (sec === undefined || !Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function hours(sec: number): string {
  return (sec / 3600).toFixed(sec < 360 ? 3 : 2);
}

export interface ProgressReporter {
  start(info: Record<string, unknown>): void;
  progress(p: GradeProgress): void;
  row(row: GradedRow): void;
  stop(): void;
}

/** A reporter writing to `stream` (progress goes to stderr, JSON events to stdout). */
export function progressReporter(style: ProgressStyle, options: { stderr?: NodeJS.WriteStream; stdout?: NodeJS.WritableStream; intervalMs?: number } = {}): ProgressReporter {
  const err = options.stderr ?? process.stderr;
  const out = options.stdout ?? process.stdout;
  const intervalMs = options.intervalMs ?? (style === 'json' ? 2000 : 10000);
  let last = 0;
  let latest: GradeProgress | undefined;
  const line = (p: GradeProgress) => {
    const total = p.total !== undefined ? `/${p.total}` : '';
    const pct = p.total ? ` (${((100 * p.done) / p.total).toFixed(1)}%)` : '';
    return `graded ${p.done}${total} clips${pct}, ${hours(p.audioSec)} h audio, ${p.xRealTime.toFixed(1)}x real time, ETA ${formatSeconds(p.etaSec)}, ${p.failed} failed`;
  };
  if (style === 'bar') {
    const bar = new cliProgress.SingleBar(
      {
        stream: err,
        format: '{bar} {percentage}% | {value}/{total} clips | {hours} h audio | {xrt}x real time | ETA {etaText} | {failed} failed',
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      start(info) {
        bar.start(Number(info.total ?? 0), 0, { hours: hours(0), xrt: '0.0', etaText: '?', failed: 0 });
        started = true;
      },
      progress(p) {
        if (!started) return;
        if (p.total !== undefined) bar.setTotal(p.total);
        bar.update(p.done, { hours: hours(p.audioSec), xrt: p.xRealTime.toFixed(1), etaText: formatSeconds(p.etaSec), failed: p.failed });
      },
      row() {},
      stop() {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  if (style === 'lines') {
    return {
      start(info) {
        err.write(`grading ${info.input} → ${info.out}: ${info.total ?? '?'} clips to do${info.skipped ? `, ${info.skipped} already done` : ''}\n`);
        last = Date.now();
      },
      progress(p) {
        latest = p;
        if (Date.now() - last >= intervalMs) {
          last = Date.now();
          err.write(line(p) + '\n');
        }
      },
      row() {},
      stop() {
        if (latest) err.write(line(latest) + '\n');
      },
    };
  }
  if (style === 'json') {
    const emit = (o: Record<string, unknown>) => out.write(JSON.stringify({ time: new Date().toISOString(), ...o }) + '\n');
    return {
      start(info) {
        emit({ event: 'start', ...info });
        last = Date.now();
      },
      progress(p) {
        latest = p;
        if (Date.now() - last >= intervalMs) {
          last = Date.now();
          emit({ event: 'progress', ...p });
        }
      },
      row(row) {
        const v = row.voxqc;
        if (v.error) emit({ event: 'clip_error', id: v.id, audio: v.audio, code: v.error.code, message: v.error.message });
      },
      stop() {},
    };
  }
  return { start() {}, progress() {}, row() {}, stop() {} };
}

/** The human summary of a finished run. */
export function summaryText(s: GradeSummary, command = 'voxqc grade'): string {
  const errors = Object.entries(s.output.errors)
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
  const lines = [
    `${command}: ${s.rows} rows${s.outsideShard ? ` in this shard (${s.outsideShard} in other shards)` : ''}: ` +
      `${s.done - s.failed} graded, ${s.failed} failed, ${s.skipped} already in the output` +
      (s.aborted ? ' (interrupted: rerun the same command to resume)' : ''),
    `  this run: ${hours(s.audioSec)} h of audio in ${formatSeconds(s.elapsedSec)} (${s.xRealTime.toFixed(1)}x real time)`,
    `  output: ${s.output.rows} rows: high ${s.output.byGrade.high}, medium ${s.output.byGrade.medium}, low ${s.output.byGrade.low}, ` +
      `failed ${s.output.failed}${errors ? ` (${errors})` : ''}; ${hours(s.output.audioSec)} h of audio`,
  ];
  const r = s.repaired;
  if (r.truncatedBytes || r.droppedLines || r.droppedErrorRows) {
    lines.push(
      `  repaired the output: ${r.droppedLines} incomplete line(s) dropped (${r.truncatedBytes} bytes cut)` +
        (r.droppedErrorRows ? `, ${r.droppedErrorRows} error rows removed to retry` : ''),
    );
  }
  lines.push(`  written to ${s.out}`);
  return lines.join('\n');
}
