// The media of one clip in the report: a 16 kHz 16-bit mono WAV (as a data: URI) and a log-mel
// spectrogram PNG computed with voxqc's own melSpectrogram.
import { loadAudio } from '../audio.js';
import { melSpectrogram } from '../features.js';
import { colourOf, encodePng } from './png.js';

export const REPORT_RATE = 16000;

/** 16-bit PCM mono WAV bytes of `samples` (clamped to [-1, 1]). */
export function encodeWav16(samples: Float32Array, sampleRate: number): Buffer {
  const n = samples.length;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) {
    const v = Math.max(-1, Math.min(1, samples[i]!));
    buf.writeInt16LE(Math.round(v < 0 ? v * 32768 : v * 32767), 44 + i * 2);
  }
  return buf;
}

/** A log-mel spectrogram image: low frequencies at the bottom, 80 dB of range, at most maxWidth columns. */
export async function spectrogramPng(samples: Float32Array, sampleRate: number, maxWidth = 480): Promise<Buffer> {
  const nMels = 64;
  const mel = await melSpectrogram(samples, { sampleRate, nFft: 512, hopLength: 160, nMels });
  const frames = mel.frames;
  const width = Math.max(1, Math.min(maxWidth, frames));
  const db = new Float32Array(width * nMels);
  let max = -Infinity;
  for (let x = 0; x < width; x++) {
    const f0 = Math.floor((x * frames) / width);
    const f1 = Math.max(f0 + 1, Math.floor(((x + 1) * frames) / width));
    for (let m = 0; m < nMels; m++) {
      let s = 0;
      for (let f = f0; f < f1; f++) s += mel.data[f * nMels + m]!;
      const v = 10 * Math.log10(Math.max(s / (f1 - f0), 1e-10));
      db[x * nMels + m] = v;
      if (v > max) max = v;
    }
  }
  // 80 dB of range under the loudest cell, but never above -30 dB: digital silence or a nearly
  // silent clip shows dark, not stretched to full colour.
  const floor = Math.max(max, -30) - 80;
  const height = nMels * 2;
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const m = nMels - 1 - Math.floor(y / 2);
    for (let x = 0; x < width; x++) {
      const [r, g, b] = colourOf((db[x * nMels + m]! - floor) / 80);
      const o = (y * width + x) * 3;
      rgb[o] = r;
      rgb[o + 1] = g;
      rgb[o + 2] = b;
    }
  }
  return encodePng(rgb, width, height);
}

export interface ClipMedia {
  /** data:audio/wav;base64,... */
  audio?: string;
  /** data:image/png;base64,... */
  spectrogram?: string;
  /** Seconds embedded (after the cap). */
  seconds?: number;
  /** Why there is no media. */
  error?: string;
}

/** Loads a clip's span (capped at maxSec) at 16 kHz mono and makes its player and spectrogram. */
export async function clipMedia(
  audio: string,
  span: { offsetSec?: number; durationSec?: number },
  options: { maxSec: number; audio: boolean; spectrogram: boolean },
): Promise<ClipMedia> {
  try {
    const durationSec = Math.min(span.durationSec ?? Infinity, options.maxSec);
    const a = await loadAudio(audio, { sampleRate: REPORT_RATE, channel: 'mix', offsetSec: span.offsetSec ?? 0, durationSec });
    const out: ClipMedia = { seconds: a.durationSec };
    if (options.audio) out.audio = 'data:audio/wav;base64,' + encodeWav16(a.samples, REPORT_RATE).toString('base64');
    if (options.spectrogram && a.samples.length >= 512) {
      out.spectrogram = 'data:image/png;base64,' + (await spectrogramPng(a.samples, REPORT_RATE)).toString('base64');
    }
    return out;
  } catch (err) {
    return { error: (err as Error).message };
  }
}
