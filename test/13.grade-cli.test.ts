// Layer 13: `voxqc grade` as a real child process (the compiled CLI) with a grader module:
// exit codes and summaries, JSON events, options, and kill -9 in the middle of a run followed by a
// resume that writes every row exactly once. No test waits on time: a kill happens when the
// output holds a given number of rows, and clips are held in flight by a gate file.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { repoRoot, tempDir } from './helpers/index.js';
import { cli, graderModule, makeDataset, readJsonl, runCli, spawnCli, writeJsonl, type Dataset } from './fixtures/dataset/make.js';

/** Complete lines in a file now (0 when it does not exist). */
function completeLines(path: string): number {
  if (!existsSync(path)) return 0;
  const text = readFileSync(path, 'utf8');
  return text.split('\n').length - 1;
}

/** Resolves when `cond()` holds, checking whenever the child writes and on a short poll. */
async function until(cond: () => boolean, child: { exitCode: number | null; signalCode: string | null }): Promise<void> {
  while (!cond()) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('the child ended before the condition held');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('13 dataset: voxqc grade (CLI)', () => {
  let t: { dir: string; cleanup(): void };
  let ds: Dataset;
  let manifest: string;
  const N = 16;
  before(function () {
    if (!existsSync(cli)) throw new Error(`${cli} missing: run npm run build:ts`);
    t = tempDir('voxqc-13-');
    ds = makeDataset(t.dir);
    const clips = ['audio/zero.wav', 'audio/whisper.wav', 'audio/lj.wav', 'audio/libri.flac'];
    manifest = writeJsonl(join(t.dir, 'm.jsonl'), Array.from({ length: N }, (_, i) => ({ id: `u${i}`, audio_filepath: clips[i % clips.length], n: i })));
  });
  after(() => t.cleanup());

  it('grades a manifest, prints a summary, exits 0; a rerun skips every row', async () => {
    const out = join(t.dir, 'ok.jsonl');
    const r = await runCli(['grade', manifest, '--out', out, '--grader', graderModule, '--jobs', '2']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`voxqc grade: ${N} rows: ${N} graded, 0 failed, 0 already in the output`));
    assert.match(r.out, /output: 16 rows: high \d+, medium \d+, low \d+, failed 0/);
    assert.equal(readJsonl(out).length, N);
    const again = await runCli(['grade', manifest, '--out', out, '--grader', graderModule]);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /0 graded, 0 failed, 16 already in the output/);
    assert.equal(readJsonl(out).length, N);
  });

  it('failed clips: error rows, the run goes on, exit 1, the summary and --json events count them', async () => {
    const m = writeJsonl(join(t.dir, 'bad.jsonl'), [
      { audio_filepath: 'audio/zero.wav' },
      { audio_filepath: ds.bad.missing },
      { audio_filepath: ds.bad.corrupt },
      { audio_filepath: ds.bad.empty },
      { audio_filepath: ds.bad.nan },
      { audio_filepath: 'audio/whisper.wav' },
    ]);
    const out = join(t.dir, 'bad-out.jsonl');
    const r = await runCli(['grade', m, '--out', out, '--grader', graderModule, '--json']);
    assert.equal(r.code, 1, r.err);
    const events = r.out.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(events[0].event, 'start');
    assert.equal(events[0].total, 6);
    const errors = events.filter((e) => e.event === 'clip_error');
    assert.deepEqual(errors.map((e) => e.code).sort(), ['ERR_DECODE', 'ERR_DECODE', 'ERR_DECODE', 'ERR_NOT_FOUND']);
    const done = events.at(-1);
    assert.equal(done.event, 'done');
    assert.equal(done.failed, 4);
    assert.deepEqual(done.output.errors, { ERR_NOT_FOUND: 1, ERR_DECODE: 3 });
    assert.equal(readJsonl(out).length, 6);
    // The plain summary says it too, on a rerun (the output's failures count for the exit code).
    const again = await runCli(['grade', m, '--out', out, '--grader', graderModule]);
    assert.equal(again.code, 1);
    assert.match(again.out, /failed 4 \((ERR_DECODE 3, ERR_NOT_FOUND 1)\)/);
  });

  it('options: --thresholds (YAML, JSON, validated), --mode model, bad usage', async () => {
    const m = writeJsonl(join(t.dir, 'th.jsonl'), [{ audio_filepath: 'audio/whisper.wav' }]);
    const yaml = join(t.dir, 'th.yaml');
    writeFileSync(yaml, '# stricter\ntooQuietDbfs: -60\n');
    const out = join(t.dir, 'th-out.jsonl');
    let r = await runCli(['grade', m, '--out', out, '--grader', graderModule, '--thresholds', yaml, '--quiet']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, '', '--quiet prints nothing');
    assert.deepEqual(readJsonl(out)[0]!.voxqc.flags, []);
    const badYaml = join(t.dir, 'bad.yaml');
    writeFileSync(badYaml, 'tooQuietDbfs: [1, 2\n');
    r = await runCli(['grade', m, '--out', join(t.dir, 'x.jsonl'), '--grader', graderModule, '--thresholds', badYaml]);
    assert.equal(r.code, 2);
    assert.match(r.err, /thresholds file .*bad\.yaml: not valid YAML/);
    const listJson = join(t.dir, 'list.json');
    writeFileSync(listJson, '[1,2]');
    r = await runCli(['grade', m, '--out', join(t.dir, 'x.jsonl'), '--grader', graderModule, '--thresholds', listJson]);
    assert.equal(r.code, 2);
    assert.match(r.err, /expected a mapping of threshold names to values, but it holds a list/);
    r = await runCli(['grade', m, '--out', join(t.dir, 'x.jsonl'), '--mode', 'model'], { env: { VOXQC_MODEL: join(repoRoot, 'models', 'broken') } });
    assert.equal(r.code, 1);
    assert.match(r.err, /the learned grader .*models\/broken cannot be loaded/);
    assert.equal(existsSync(join(t.dir, 'x.jsonl')), false);
    r = await runCli(['grade', m]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--out graded\.jsonl is required/);
    r = await runCli(['grade', m, '--out', join(t.dir, 'x.jsonl'), '--grader', join(t.dir, 'th.yaml.mjs')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /grader module .*: no such file/);
    const notGrader = join(t.dir, 'not-a-grader.mjs');
    writeFileSync(notGrader, 'export const x = 1;\n');
    r = await runCli(['grade', m, '--out', join(t.dir, 'x.jsonl'), '--grader', notGrader]);
    assert.equal(r.code, 2);
    assert.match(r.err, /expected its default export to be a function/);
    r = await runCli(['grade', m, '--out', join(t.dir, 'x.jsonl'), '--grader', graderModule, '--shard', '0/2']);
    assert.equal(r.code, 2);
    assert.match(r.err, /1 ≤ i ≤ n/);
  });

  it('kill -9 while clips are in flight, then rerun: every row exactly once', async () => {
    const out = join(t.dir, 'killed.jsonl');
    const gate = join(t.dir, 'gate-never-opened');
    // Clips after the 7th wait for a gate file that is never created: the run is stuck with
    // clips in flight when it is killed.
    const child = spawnCli(['grade', manifest, '--out', out, '--grader', graderModule, '--jobs', '3', '--quiet'], {
      VOXQC_TEST_HOLD_AFTER: '7',
      VOXQC_TEST_GATE: gate,
    });
    await until(() => completeLines(out) >= 7, child);
    child.kill('SIGKILL');
    const [, signal] = await once(child, 'exit');
    assert.equal(signal, 'SIGKILL');
    const before = readJsonl(out);
    assert.equal(before.length, 7, 'the rows finished before the kill are all there, whole');
    const r = await runCli(['grade', manifest, '--out', out, '--grader', graderModule, '--jobs', '3']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`${N - 7} graded, 0 failed, 7 already in the output`));
    const ids = readJsonl(out).map((x) => x.voxqc.id);
    assert.equal(ids.length, N);
    assert.deepEqual([...ids].sort(), Array.from({ length: N }, (_, i) => `u${i}`).sort());
    // The rows kept from the killed run are unchanged.
    assert.deepEqual(readJsonl(out).slice(0, 7), before);
  });

  it('kill -9 at whatever point the run has reached, plus a torn last line: the resume repairs and completes', async () => {
    const out = join(t.dir, 'killed-2.jsonl');
    const child = spawnCli(['grade', manifest, '--out', out, '--grader', graderModule, '--jobs', '2', '--quiet']);
    await until(() => completeLines(out) >= 1, child).catch(() => {});
    child.kill('SIGKILL');
    await once(child, 'exit').catch(() => {});
    // Whatever the moment, what is there is whole rows; simulate a crash mid-write on top.
    const whole = existsSync(out) ? readJsonl(out).length : 0;
    appendFileSync(out, '{"id":"u15","audio_filepath":"audio/libri.fl');
    const r = await runCli(['grade', manifest, '--out', out, '--grader', graderModule, '--json']);
    assert.equal(r.code, 0, r.err);
    const done = JSON.parse(r.out.trim().split('\n').at(-1)!);
    assert.equal(done.repaired.droppedLines, 1);
    assert.equal(done.skipped, whole);
    const ids = readJsonl(out).map((x) => x.voxqc.id).sort();
    assert.deepEqual(ids, Array.from({ length: N }, (_, i) => `u${i}`).sort());
  });

  it('--shard over the CLI: the shards together hold every row once', async () => {
    const ids: string[] = [];
    for (const i of [1, 2, 3]) {
      const out = join(t.dir, `cli-shard-${i}.jsonl`);
      const r = await runCli(['grade', manifest, '--out', out, '--grader', graderModule, '--shard', `${i}/3`, '--quiet']);
      assert.equal(r.code, 0, r.err);
      ids.push(...readJsonl(out).map((x) => x.voxqc.id));
    }
    assert.deepEqual(ids.sort(), Array.from({ length: N }, (_, i) => `u${i}`).sort());
  });
});
