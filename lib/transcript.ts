// Transcript plausibility without an ASR model: does the text fit the speech's duration?
//
// The text is turned into speech units: phonemes from espeak-ng (Debian's package, 100+
// languages) for alphabetic scripts, and syllables for Chinese, Japanese and Korean (one per
// CJK character, kana or Hangul block: espeak-ng's Debian build has no Mandarin dictionary and
// reads such text letter by letter). The speaking rate the text implies, units per second of
// active speech, is compared with the distribution of rates of real read speech. That
// distribution is models/transcript-rate.json, fitted from the transcribed clips of the shared
// corpus by scripts/fit-transcript-rate.mjs.
//
// textMatch is the two-sided tail probability of the implied rate under that distribution: 1
// for a typical rate, near 0 for a text far too long or too short for the speech. It catches
// transcripts of other clips, truncated or run-on transcripts, and text for silent audio.
// A wrong sentence of similar length has a typical rate, so it cannot be caught this way.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VoxqcError } from './errors.js';
import { packageRoot } from './native/loader.js';

export type SpeechUnit = 'phoneme' | 'syllable';

export interface TextUnits {
  units: number;
  unit: SpeechUnit;
  /** The espeak-ng voice used, for phonemes. */
  voice?: string;
}

const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/gu;
const SYLLABIC_LANGUAGES = new Set(['zh', 'cmn', 'yue', 'ja', 'ko']);

/** espeak-ng voice for an ISO 639-1 code (or a voice name, passed through). */
function voiceFor(language: string | undefined): string {
  const lang = (language ?? 'en').toLowerCase();
  const map: Record<string, string> = { en: 'en-us', pt: 'pt', es: 'es', fr: 'fr-fr', de: 'de', it: 'it', ru: 'ru', nl: 'nl' };
  return map[lang] ?? lang;
}

function espeakPath(): string {
  return process.env.VOXQC_ESPEAK || 'espeak-ng';
}

/** Phonemes of `text` by espeak-ng (IPA, one token per phoneme). */
export function phonemize(text: string, voice: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(espeakPath(), ['-q', '--ipa', '--sep=_', '-v', voice, '--stdin'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (e) =>
      reject(new VoxqcError('ERR_UNSUPPORTED', `transcript check needs espeak-ng (apt-get install -y espeak-ng): ${e.message}`)),
    );
    child.on('close', (code) => {
      if (code !== 0 || /unknown voice|Failed to read voice/i.test(err)) {
        reject(new VoxqcError('ERR_UNSUPPORTED', `espeak-ng has no voice '${voice}': ${err.trim() || `exit ${code}`}`));
        return;
      }
      const tokens = out
        .replace(/\([a-z-]+\)/g, ' ') // language-switch marks such as (en)
        .split(/[\s_]+/)
        .map((t) => t.replace(/[ˈˌ‿.|ˑ-]/g, ''))
        .filter((t) => /\p{L}/u.test(t));
      resolve(tokens);
    });
    child.stdin.end(text);
  });
}

/** Counts the speech units of a transcript. */
export async function countTextUnits(text: string, language?: string): Promise<TextUnits> {
  const lang = (language ?? '').toLowerCase();
  const cjk = text.match(CJK)?.length ?? 0;
  const letters = text.match(/\p{L}/gu)?.length ?? 0;
  if (SYLLABIC_LANGUAGES.has(lang) || (letters > 0 && cjk / letters > 0.5)) {
    return { units: cjk, unit: 'syllable' };
  }
  const voice = voiceFor(language);
  const phonemes = await phonemize(text, voice);
  return { units: phonemes.length, unit: 'phoneme', voice };
}

/** Log-normal rate model per unit, fitted on real read speech. */
export interface RateModel {
  /** Per unit: mean and standard deviation of ln(units per second of active speech). */
  units: Record<SpeechUnit, { meanLogRate: number; stdLogRate: number; clips: number }>;
  fittedOn: string;
}

let cachedModel: RateModel | undefined;
export function rateModel(): RateModel {
  cachedModel ??= JSON.parse(readFileSync(join(packageRoot(), 'models', 'transcript-rate.json'), 'utf8')) as RateModel;
  return cachedModel;
}

/** erfc for the two-sided normal tail (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * z);
  const y = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-z * z);
  return x >= 0 ? y : 2 - y;
}

export interface TranscriptScore {
  /** 0..1: how plausible the text's length is for the speech (two-sided tail probability). */
  textMatch: number;
  /** Units per second of active speech the text implies. */
  textRate: number;
  textUnits: number;
  textUnit: SpeechUnit;
}

/** Scores a transcript against the active-speech duration measured in the audio. */
export function scoreTranscript(units: TextUnits, speechSec: number, model: RateModel = rateModel()): TranscriptScore {
  const m = model.units[units.unit];
  if (units.units === 0 || speechSec <= 0) {
    // Text for no speech, or speech with an empty text: as implausible as it gets, unless both are empty.
    const match = units.units === 0 && speechSec <= 0 ? 1 : 0;
    return { textMatch: match, textRate: speechSec > 0 ? 0 : Infinity, textUnits: units.units, textUnit: units.unit };
  }
  const rate = units.units / speechSec;
  const z = (Math.log(rate) - m.meanLogRate) / m.stdLogRate;
  return { textMatch: erfc(Math.abs(z) / Math.SQRT2), textRate: rate, textUnits: units.units, textUnit: units.unit };
}
