// Layer 6: every file in ../shared/corpus decodes (skips with a message when the corpus is absent).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { loadAudio, VoxqcError } from '../lib/index.js';
import { corpusDir } from './helpers/index.js';

interface Row {
  audio: string;
  kind: string;
  duration: number;
  sampleRate: number;
  channels: number;
}

describe('06 the shared corpus', function () {
  const dir = corpusDir();
  before(function () {
    if (!dir) {
      console.log('      skipped: ../shared/corpus not found (set VOXQC_CORPUS to its path)');
      this.skip();
    }
  });

  it('decodes every file in the corpus manifest, with the duration, rate and channels it lists', async () => {
    const rows: Row[] = readFileSync(join(dir!, 'manifest.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const limit = pLimit(4);
    const started = performance.now();
    const failures: string[] = [];
    let audioSec = 0;
    await Promise.all(
      rows.map((row) =>
        limit(async () => {
          const path = join(dir!, row.audio);
          try {
            const a = await loadAudio(path);
            audioSec += a.durationSec;
            if (a.source.sampleRate !== row.sampleRate) failures.push(`${row.audio}: rate ${a.source.sampleRate} != ${row.sampleRate}`);
            if (a.channels !== row.channels) failures.push(`${row.audio}: ${a.channels} channels != ${row.channels}`);
            if (Math.abs(a.durationSec - row.duration) > 0.05) failures.push(`${row.audio}: ${a.durationSec} s != ${row.duration} s`);
          } catch (err) {
            failures.push(`${row.audio}: ${err instanceof VoxqcError ? `${err.code} ${err.message}` : String(err)}`);
          }
        }),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`      ${rows.length} files, ${(audioSec / 60).toFixed(1)} min of audio decoded in ${seconds.toFixed(1)} s; ${failures.length} problems`);
    for (const f of failures) console.log(`        ${f}`);
    assert.deepEqual(failures, []);
  });
});
