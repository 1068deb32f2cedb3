// Layer 10: manifest readers (NeMo JSONL, CSV, TSV, lhotse cuts and recordings, folders), the
// --where language and the shard split. No grading here.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest, type ManifestRow } from '../lib/dataset/manifest.js';
import { compileWhere } from '../lib/dataset/where.js';
import { inShard, parseShard } from '../lib/dataset/shard.js';
import { tempDir } from './helpers/index.js';
import { lhotseCut, lhotseRecording, makeDataset, nemoRows, writeJsonl, type Dataset } from './fixtures/dataset/make.js';

async function all(path: string, options = {}): Promise<ManifestRow[]> {
  const rows: ManifestRow[] = [];
  for await (const r of readManifest(path, options)) rows.push(r);
  return rows;
}

describe('10 dataset: manifests', () => {
  let t: { dir: string; cleanup(): void };
  let ds: Dataset;
  before(() => {
    t = tempDir('voxqc-10-');
    ds = makeDataset(t.dir);
  });
  after(() => t.cleanup());

  it('NeMo JSONL: paths relative to the manifest, extra keys kept, segments by offset', async () => {
    const sub = join(t.dir, 'manifests');
    mkdirSync(sub, { recursive: true });
    const m = writeJsonl(join(sub, 'train.jsonl'), nemoRows().map((r) => ({ ...r, audio_filepath: `../${r.audio_filepath}` })));
    const rows = await all(m);
    assert.equal(rows.length, 5);
    assert.ok(rows.every((r) => r.format === 'nemo' && !r.error));
    assert.equal(rows[0]!.clip!.audio, join(t.dir, 'audio', 'lj.wav'));
    assert.equal(rows[0]!.id, '../audio/lj.wav');
    assert.deepEqual(rows[0]!.row!.extra, { n: 0 });
    assert.equal(rows[0]!.row!.speaker, 'spk0');
    assert.equal(rows[0]!.clip!.text, 'clip 0');
    // Whole-file rows are not cut by their duration; a row with an offset is a segment.
    assert.equal(rows[0]!.clip!.offsetSec, undefined);
    assert.equal(rows[0]!.clip!.durationSec, undefined);
    assert.equal(rows[0]!.durationSec, 9.655);
    assert.equal(rows[4]!.clip!.offsetSec, 2.5);
    assert.equal(rows[4]!.clip!.durationSec, 3);
    assert.equal(rows[4]!.id, '../audio/lj.wav@2.5', 'a segment without an id is named by path and offset');
  });

  it('JSONL: id keys, configurable keys, bad lines and rows without audio become error rows', async () => {
    const m = join(t.dir, 'mixed.jsonl');
    writeFileSync(
      m,
      [
        JSON.stringify({ utt_id: 'u1', audio: 'audio/zero.wav', transcript: 'zero' }),
        '{not json',
        '',
        JSON.stringify({ wav: 'audio/zero.wav', sentence: 'custom keys' }),
        JSON.stringify([1, 2]),
        JSON.stringify({ path: 'audio/zero.wav', offset: 'soon' }),
      ].join('\n') + '\n',
    );
    const rows = await all(m);
    assert.equal(rows.length, 5, 'blank lines are not rows');
    assert.equal(rows[0]!.id, 'u1');
    assert.equal(rows[0]!.clip!.text, 'zero');
    assert.equal(rows[1]!.error!.code, 'ERR_INVALID_ARG');
    assert.match(rows[1]!.error!.message, /line 2: not valid JSON/);
    assert.equal(rows[1]!.raw, '{not json');
    assert.match(rows[2]!.error!.message, /no audio path \(looked for 'audio_filepath', 'audio', 'path'\)/);
    assert.match(rows[3]!.error!.message, /expected a JSON object/);
    assert.match(rows[4]!.error!.message, /'offset' must be a number/);
    const custom = await all(m, { keys: { audio: 'wav', text: ['sentence'] } });
    assert.equal(custom[2]!.clip!.audio, join(t.dir, 'audio', 'zero.wav'));
    assert.equal(custom[2]!.clip!.text, 'custom keys');
    await assert.rejects(all(m, { keys: { sound: 'wav' } }), /unknown key role 'sound'/);
  });

  it('CSV and TSV with a header: values as strings, quoting, segments, columns in order', async () => {
    const csv = join(t.dir, 'm.csv');
    writeFileSync(
      csv,
      'id,audio_filepath,text,offset,duration,speaker\n' +
        'a,audio/lj.wav,"Printing, in the only sense",,9.655,s1\n' +
        'b,audio/lj.wav,"a ""quoted"" segment",1.5,2,s1\n' +
        'c,,no audio,,,s2\n',
    );
    const rows = await all(csv);
    assert.equal(rows.length, 3);
    assert.deepEqual(rows[0]!.columns, ['id', 'audio_filepath', 'text', 'offset', 'duration', 'speaker']);
    assert.equal(rows[0]!.format, 'csv');
    assert.equal(rows[0]!.clip!.text, 'Printing, in the only sense');
    assert.equal(rows[0]!.clip!.offsetSec, undefined);
    assert.equal(rows[1]!.clip!.text, 'a "quoted" segment');
    assert.equal(rows[1]!.clip!.offsetSec, 1.5);
    assert.equal(rows[1]!.clip!.durationSec, 2);
    assert.equal(rows[2]!.error!.code, 'ERR_INVALID_ARG');

    const tsv = join(t.dir, 'm.tsv');
    writeFileSync(tsv, 'path\tsentence\tclient_id\naudio/zero.wav\tzero, said once\tx1\naudio/whisper.wav\tleise\tx2\n');
    const trows = await all(tsv, { keys: { text: 'sentence' } });
    assert.equal(trows.length, 2);
    assert.equal(trows[0]!.format, 'tsv');
    assert.equal(trows[0]!.clip!.audio, join(t.dir, 'audio', 'zero.wav'));
    assert.equal(trows[0]!.clip!.text, 'zero, said once');
    assert.equal(trows[1]!.row!.client_id, 'x2');
  });

  it('lhotse cuts (.jsonl.gz): recording source, start/duration span, supervision text', async () => {
    const rec = lhotseRecording('lj', 'audio/lj.wav', 22050, 9.655);
    const m = writeJsonl(join(t.dir, 'cuts.jsonl.gz'), [
      lhotseCut('lj-0', rec, 0, 4, 'printing'),
      lhotseCut('lj-1', rec, 4, 5.5, 'in the only sense'),
      { ...lhotseCut('url', { ...rec, sources: [{ type: 'url', channels: [0], source: 'https://example.invalid/a.wav' }] }, 0, 1) },
    ]);
    const rows = await all(m);
    assert.equal(rows.length, 3);
    assert.ok(rows.every((r) => r.format === 'lhotse-cuts'));
    assert.equal(rows[1]!.id, 'lj-1');
    assert.deepEqual(
      { audio: rows[1]!.clip!.audio, offsetSec: rows[1]!.clip!.offsetSec, durationSec: rows[1]!.clip!.durationSec, text: rows[1]!.clip!.text },
      { audio: join(t.dir, 'audio', 'lj.wav'), offsetSec: 4, durationSec: 5.5, text: 'in the only sense' },
    );
    assert.equal(rows[2]!.error!.code, 'ERR_UNSUPPORTED');
    assert.match(rows[2]!.error!.message, /source type 'url' is not supported/);
  });

  it('lhotse recordings (.jsonl): one clip per recording', async () => {
    const m = writeJsonl(join(t.dir, 'recordings.jsonl'), [
      lhotseRecording('lj', 'audio/lj.wav', 22050, 9.655),
      lhotseRecording('zero', join(t.dir, 'audio', 'zero.wav'), 16000, 1),
    ]);
    const rows = await all(m);
    assert.deepEqual(rows.map((r) => [r.format, r.id, r.clip!.audio, r.durationSec]), [
      ['lhotse-recordings', 'lj', join(t.dir, 'audio', 'lj.wav'), 9.655],
      ['lhotse-recordings', 'zero', join(t.dir, 'audio', 'zero.wav'), 1],
    ]);
  });

  it('a folder: audio files found recursively, in a stable order, ids relative to it', async () => {
    const rows = await all(t.dir);
    const ids = rows.map((r) => r.id);
    assert.deepEqual(ids, ['audio/libri.flac', 'audio/lj.wav', 'audio/whisper.wav', 'audio/zero.wav', 'bad/corrupt.wav', 'bad/empty.wav', 'bad/nan.wav']);
    assert.ok(rows.every((r) => r.format === 'dir' && r.clip!.audio === join(t.dir, r.id)));
  });

  it('a missing manifest is ERR_NOT_FOUND', async () => {
    await assert.rejects(all(join(t.dir, 'nope.jsonl')), (e: any) => e.code === 'ERR_NOT_FOUND');
  });
});

describe('10 dataset: --where expressions', () => {
  const row = {
    duration: 4.2,
    language: 'en',
    voxqc: { id: 'x', grade: 'medium', flags: ['noisy'], scores: { snrDb: 14.5, activeLevelDbfs: -31, truncatedEnd: false, textMatch: null } },
  };
  const cases: [string, boolean][] = [
    ['snrDb > 15', false],
    ['snrDb>14', true],
    ['snrDb >= 14.5 and activeLevelDbfs > -40', true],
    ['snrDb > 20 or activeLevelDbfs <= -31', true],
    ['not (snrDb > 20) && !truncatedEnd', true],
    ['truncatedEnd', false],
    ['missingScore > 0', false],
    ['not missingScore > 0', true],
    ["grade == 'medium'", true],
    ['grade = "high"', false],
    ["language != 'de' and duration < 5", true],
    ['scores.snrDb < 15 and voxqc.grade == "medium"', true],
    ['has(noisy) and not has(clipping)', true],
    ['textMatch == null', true],
    ['activeLevelDbfs > -3.1e1', false],
  ];
  for (const [expr, expected] of cases) {
    it(`${expr} → ${expected}`, () => assert.equal(compileWhere(expr)(row), expected));
  }
  it('syntax errors name the column; nothing is evaluated as JavaScript', () => {
    assert.throws(() => compileWhere('snrDb >'), /--where: unexpected end of expression at column 8/);
    assert.throws(() => compileWhere('snrDb > 1)'), /unexpected '\)' at column 10/);
    assert.throws(() => compileWhere('process.exit(1)'), /--where/);
    assert.throws(() => compileWhere('a; b'), /unexpected ';'/);
    assert.throws(() => compileWhere(''), /expected an expression/);
  });
});

describe('10 dataset: shard split', () => {
  it('parses i/n (1-based) and rejects the rest', () => {
    assert.deepEqual(parseShard('x', '2/4'), { index: 2, count: 4, by: 'index' });
    assert.deepEqual(parseShard('x', '1/3:id'), { index: 1, count: 3, by: 'id' });
    assert.throws(() => parseShard('x', '0/4'), /1 ≤ i ≤ n/);
    assert.throws(() => parseShard('x', '5/4'), /1 ≤ i ≤ n/);
    assert.throws(() => parseShard('x', 'half'), /expected shard to be 'i\/n'/);
  });
  for (const by of ['index', 'id'] as const) {
    it(`by ${by}: every row in exactly one shard`, () => {
      const n = 5;
      for (let i = 0; i < 1000; i++) {
        const hits = Array.from({ length: n }, (_, k) => inShard({ index: k + 1, count: n, by }, i, `utt-${i}`)).filter(Boolean).length;
        assert.equal(hits, 1);
      }
    });
  }
});
