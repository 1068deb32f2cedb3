// Layer 2: voxqc's own WAV parser against ffmpeg's decode of the same files.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadAudio } from '../lib/index.js';
import { ffmpeg, ffmpegDecode, maxAbsDiff, samplesDir, tempDir } from './helpers/index.js';

const source = join(samplesDir, 'ljspeech_LJ001-0001.wav'); // real speech, public domain

describe('02 WAV parsing vs ffmpeg', () => {
  const t = tempDir();
  after(() => t.cleanup());

  // [codec, extra ffmpeg args, rate, description]
  const formats: Array<[string, string[], number, string]> = [
    ['pcm_u8', [], 16000, 'PCM 8-bit unsigned'],
    ['pcm_s16le', [], 22050, 'PCM 16-bit'],
    ['pcm_s24le', [], 44100, 'PCM 24-bit'],
    ['pcm_s32le', [], 48000, 'PCM 32-bit'],
    ['pcm_f32le', [], 16000, 'float 32-bit'],
    ['pcm_f64le', [], 8000, 'float 64-bit'],
    ['pcm_mulaw', [], 8000, 'mu-law'],
    ['pcm_alaw', [], 8000, 'A-law'],
    ['pcm_s16le', ['-rf64', 'always'], 16000, 'PCM 16-bit (RF64)'],
    ['pcm_s24le', ['-af', 'pan=3c|c0=c0|c1=0.5*c0|c2=-0.25*c0'], 11025, 'PCM 24-bit, 3 channels (extensible)'],
    ['pcm_f32le', ['-af', 'pan=stereo|c0=c0|c1=-0.5*c0'], 32000, 'float 32-bit stereo'],
  ];

  for (const [codec, extra, rate, label] of formats) {
    it(`${label} @ ${rate} Hz equals ffmpeg, channel by channel`, async () => {
      const file = join(t.dir, `${codec}-${rate}-${extra.length}.wav`);
      ffmpeg(['-i', source, ...extra, '-ar', String(rate), '-c:a', codec, file]);
      const ref = ffmpegDecode(file);
      for (let c = 0; c < ref.channels.length; c++) {
        const ours = await loadAudio(file, { channel: c });
        assert.equal(ours.source.decoder, 'wav', 'parsed by voxqc, not ffmpeg');
        assert.equal(ours.sampleRate, ref.sampleRate);
        assert.equal(ours.channels, ref.channels.length);
        assert.equal(maxAbsDiff(ours.samples, ref.channels[c]!), 0, `channel ${c} differs from ffmpeg`);
      }
      if (ref.channels.length > 1) {
        const mix = await loadAudio(file); // default: mix
        const expected = new Float32Array(mix.samples.length);
        for (let i = 0; i < expected.length; i++) {
          let s = 0;
          for (const ch of ref.channels) s += ch[i]!;
          expected[i] = s / ref.channels.length;
        }
        assert.ok(maxAbsDiff(mix.samples, expected) < 1e-6);
      }
    });
  }

  it('reads a span with offsetSec/durationSec, equal to the same span of the whole clip', async () => {
    const whole = await loadAudio(source);
    const part = await loadAudio(source, { offsetSec: 2, durationSec: 1.5 });
    const start = Math.round(2 * whole.sampleRate);
    assert.equal(part.samples.length, Math.round(1.5 * whole.sampleRate));
    assert.equal(maxAbsDiff(part.samples, whole.samples.subarray(start, start + part.samples.length)), 0);
  });

  it('decodes from a Buffer the same as from the path', async () => {
    const { readFileSync } = await import('node:fs');
    const fromPath = await loadAudio(source);
    const fromBuffer = await loadAudio(readFileSync(source));
    assert.equal(fromBuffer.source.path, undefined);
    assert.equal(maxAbsDiff(fromPath.samples, fromBuffer.samples), 0);
  });

  it('decodes FLAC, MP3, OGG/Opus and M4A/AAC through ffmpeg', async () => {
    const ref = (await loadAudio(source)).samples;
    for (const [ext, codecArgs] of [
      ['flac', []],
      ['mp3', ['-b:a', '128k']],
      ['opus', ['-c:a', 'libopus', '-b:a', '64k']],
      ['m4a', ['-c:a', 'aac', '-b:a', '128k']],
    ] as const) {
      const file = join(t.dir, `clip.${ext}`);
      ffmpeg(['-i', source, ...codecArgs, file]);
      const audio = await loadAudio(file, { sampleRate: 22050 });
      assert.equal(audio.source.decoder, 'ffmpeg');
      // Lossless FLAC is exact; lossy codecs keep the length within their padding.
      if (ext === 'flac') assert.equal(maxAbsDiff(audio.samples, ref), 0);
      else assert.ok(Math.abs(audio.durationSec - ref.length / 22050) < 0.1, `${ext}: ${audio.durationSec} s`);
    }
  });
});
