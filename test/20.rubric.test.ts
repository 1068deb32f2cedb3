// Layer 20: the rubric's rule (shared/spec/rubric.md v1.1): thresholds, flags and grades.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyRubric, DEFAULT_THRESHOLDS, loadThresholds, resolveThresholds } from '../lib/rubric.js';
import { VoxqcError } from '../lib/index.js';
import { tempDir } from './helpers/index.js';

// A clean clip's scores: every measurement well inside the "high" region.
const clean = {
  durationSec: 5,
  sampleRate: 16000,
  speechSec: 4,
  leadingSilenceSec: 0.3,
  trailingSilenceSec: 0.4,
  maxPauseSec: 0.5,
  activeLevelDbfs: -22,
  snrDb: 35,
  clippedFraction: 0,
  dropouts: 0,
  maxDropoutMs: 0,
  repeatedSec: 0,
  truncatedStart: false,
  truncatedEnd: false,
  hfEnergyAbove4k: 0.05,
  bandwidthHz: 7000,
};

describe('20 rubric', () => {
  it('a clean clip is high with no flags', () => {
    assert.deepEqual(applyRubric(clean), { grade: 'high', flags: [] });
  });

  // [change, expected flags, expected grade]: each threshold probed on both sides.
  const cases: Array<[Record<string, number | boolean>, string[], string]> = [
    [{ speechSec: 0.29 }, ['no_speech'], 'low'],
    [{ speechSec: 0.3 }, [], 'high'],
    [{ snrDb: 9.9 }, ['low_snr'], 'low'],
    [{ snrDb: 10 }, ['noisy'], 'medium'],
    [{ snrDb: 19.9 }, ['noisy'], 'medium'],
    [{ snrDb: 20 }, [], 'high'],
    [{ clippedFraction: 0.0051 }, ['clipping'], 'low'],
    [{ clippedFraction: 0.005 }, ['clipping'], 'medium'],
    [{ clippedFraction: 0.0002 }, [], 'high'],
    [{ maxDropoutMs: 30, dropouts: 1 }, ['dropout'], 'low'],
    [{ maxDropoutMs: 29, dropouts: 1 }, [], 'high'],
    [{ repeatedSec: 0.8 }, ['repetition'], 'low'],
    [{ repeatedSec: 0.79 }, [], 'high'],
    [{ truncatedStart: true }, ['truncated'], 'low'],
    [{ truncatedEnd: true }, ['truncated'], 'low'],
    [{ activeLevelDbfs: -45.1 }, ['too_quiet'], 'low'],
    [{ activeLevelDbfs: -45 }, [], 'high'],
    [{ leadingSilenceSec: 1.01 }, ['long_silence'], 'medium'],
    [{ trailingSilenceSec: 1.01 }, ['long_silence'], 'medium'],
    [{ maxPauseSec: 2.01 }, ['long_silence'], 'medium'],
    [{ maxPauseSec: 2.0 }, [], 'high'],
    [{ hfEnergyAbove4k: 0.0029 }, ['narrowband'], 'medium'],
    [{ hfEnergyAbove4k: 0.0029, sampleRate: 8000 }, [], 'high'],
    [{ textMatch: 0.005 }, ['transcript_mismatch'], 'low'],
    [{ textMatch: 0.5 }, [], 'high'],
    [{ avOffsetMs: -200 }, ['av_offset'], 'low'],
    [{ avOffsetMs: 150 }, ['av_offset'], 'medium'],
    [{ avOffsetMs: 99 }, [], 'high'],
    [{ snrDb: 15, leadingSilenceSec: 2, clippedFraction: 0.01 }, ['noisy', 'clipping', 'long_silence'], 'low'],
  ];
  for (const [change, flags, grade] of cases) {
    it(`${JSON.stringify(change)} -> ${grade} ${flags.join(',') || '(no flag)'}`, () => {
      assert.deepEqual(applyRubric({ ...clean, ...change }), { grade, flags });
    });
  }

  it('no speech: only no_speech is flagged, the speech-relative scores are not judged', () => {
    assert.deepEqual(applyRubric({ ...clean, speechSec: 0, snrDb: -5, activeLevelDbfs: -80 }), { grade: 'low', flags: ['no_speech'] });
  });

  it('thresholds from YAML and JSON files override the defaults; bad keys and values are named', async () => {
    const t = tempDir();
    try {
      const yaml = join(t.dir, 'tts.yaml');
      writeFileSync(yaml, '# stricter for TTS\nnoisySnrDb: 30\nedgeSilenceSec: 0.5\n');
      const strict = await loadThresholds(yaml);
      assert.equal(strict.noisySnrDb, 30);
      assert.equal(strict.lowSnrDb, DEFAULT_THRESHOLDS.lowSnrDb);
      assert.deepEqual(applyRubric({ ...clean, snrDb: 25 }, strict), { grade: 'medium', flags: ['noisy'] });
      const json = join(t.dir, 't.json');
      writeFileSync(json, '{"noisySnrDb": 30, "lowSnr": 5}');
      await assert.rejects(loadThresholds(json), (e: unknown) => e instanceof VoxqcError && /unknown option 'lowSnr'/.test(e.message) && e.message.includes(json));
      writeFileSync(json, '{"noisySnrDb": "loud"}');
      await assert.rejects(loadThresholds(json), /expected noisySnrDb to be a finite number, but received 'loud'/);
      writeFileSync(json, '{not json');
      await assert.rejects(loadThresholds(json), /not valid JSON/);
      assert.throws(() => resolveThresholds({ noisySnrDb: 5 }), /noisySnrDb \(5\) is below lowSnrDb/);
    } finally {
      t.cleanup();
    }
  });
});
