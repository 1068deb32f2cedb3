// Layer 21: transcript units and the speaking-rate plausibility score.
import assert from 'node:assert/strict';
import { countTextUnits, scoreTranscript, type RateModel } from '../lib/transcript.js';

const model: RateModel = {
  units: {
    phoneme: { meanLogRate: Math.log(12), stdLogRate: 0.2, clips: 1 },
    syllable: { meanLogRate: Math.log(4.5), stdLogRate: 0.2, clips: 1 },
  },
  fittedOn: 'test',
};

describe('21 transcript', () => {
  it('counts phonemes with espeak-ng (English, German) and syllables for CJK text', async () => {
    assert.deepEqual(await countTextUnits('zero', 'en'), { units: 4, unit: 'phoneme', voice: 'en-us' }); // z ɪ ɹ oʊ
    const de = await countTextUnits('Guten Morgen', 'de');
    assert.equal(de.unit, 'phoneme');
    assert.ok(de.units >= 9 && de.units <= 11, String(de.units)); // ɡ uː t ə n m ɔ ɾ ɡ ə n
    assert.deepEqual(await countTextUnits('甚至出现交易几乎停滞的情况', 'zh'), { units: 13, unit: 'syllable' });
    assert.deepEqual(await countTextUnits('甚至出现交易几乎停滞的情况'), { units: 13, unit: 'syllable' }); // detected by script
  });

  it('textMatch is 1 at the typical rate and falls off in both directions', () => {
    const typical = scoreTranscript({ units: 120, unit: 'phoneme' }, 10, model);
    assert.ok(Math.abs(typical.textMatch - 1) < 1e-6);
    assert.equal(typical.textRate, 12);
    // One standard deviation (a factor e^0.2) faster or slower: the two-sided tail 0.3173.
    const fast = scoreTranscript({ units: 120 * Math.exp(0.2), unit: 'phoneme' }, 10, model);
    const slow = scoreTranscript({ units: 120 / Math.exp(0.2), unit: 'phoneme' }, 10, model);
    assert.ok(Math.abs(fast.textMatch - 0.3173) < 1e-3 && Math.abs(slow.textMatch - 0.3173) < 1e-3);
    // A text four times too long for the speech.
    assert.ok(scoreTranscript({ units: 480, unit: 'phoneme' }, 10, model).textMatch < 1e-6);
    // Text for a clip with no speech.
    assert.equal(scoreTranscript({ units: 50, unit: 'phoneme' }, 0, model).textMatch, 0);
  });
});
