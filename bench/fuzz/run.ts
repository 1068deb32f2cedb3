// The TypeScript half of `npm run fuzz`: N fast-check cases per target (default 10,000), seeded.
//   node --import tsx bench/fuzz/run.ts [--cases N] [--seed S] [--target NAME]... [--timeout-ms MS] [--json]
// Prints one line per target: cases, results, VoxqcErrors (by code), unexpected endings, hangs.
// A failing case is shrunk by fast-check, printed, and written to fuzz-crashes/ts-<target>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runTarget, TS_TARGETS } from './targets.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    target: { type: 'string', multiple: true },
    'timeout-ms': { type: 'string', default: '60000' },
    'crash-dir': { type: 'string', default: 'fuzz-crashes' },
    json: { type: 'boolean', default: false },
  },
});
const numRuns = Number(values.cases);
const seed = Number(values.seed);
const chosen = values.target?.length ? TS_TARGETS.filter((t) => values.target!.includes(t.name)) : TS_TARGETS;
let failed = 0;
for (const t of chosen) {
  const t0 = performance.now();
  let counts;
  let failure: Error | undefined;
  try {
    counts = await runTarget(t, { numRuns, seed, timeoutMs: Number(values['timeout-ms']) });
  } catch (err) {
    failure = err as Error;
    failed++;
  }
  const sec = (performance.now() - t0) / 1000;
  if (failure) {
    mkdirSync(values['crash-dir']!, { recursive: true });
    const file = `${values['crash-dir']}/ts-${t.name}.txt`;
    writeFileSync(file, failure.message);
    console.log(`  ${t.name.padEnd(10)} FAILED after ${sec.toFixed(1)} s (counterexample in ${file}):\n${failure.message.split('\n').slice(0, 12).join('\n')}`);
    continue;
  }
  const codes = Object.entries(counts!.byCode).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ');
  if (values.json) console.log(JSON.stringify({ target: `ts:${t.name}`, ...counts, unexpected: 0, hangs: 0, seconds: sec }));
  else
    console.log(
      `  ${t.name.padEnd(10)} ${String(counts!.cases).padStart(7)} cases  ${String(counts!.results).padStart(7)} results  ${String(counts!.voxqcErrors).padStart(7)} VoxqcErrors  0 unexpected  0 hangs  ${sec.toFixed(1).padStart(6)} s  (${codes})`,
    );
}
process.exit(failed ? 1 : 0);
