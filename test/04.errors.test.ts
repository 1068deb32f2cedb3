// Layer 4: bad input gives a VoxqcError with a code, naming the file and the problem.
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync, ftruncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { loadAudio, resample, configure, VoxqcError } from '../lib/index.js';
import { samplesDir, tempDir } from './helpers/index.js';

async function rejectsWith(p: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<VoxqcError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof VoxqcError, `not a VoxqcError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const re of patterns) assert.match(err.message, re);
    return err;
  }
  assert.fail(`expected ${code}`);
}

function wavHeader(opts: { tag?: number; channels?: number; rate?: number; bits?: number; dataBytes: number }): Buffer {
  const { tag = 1, channels = 1, rate = 16000, bits = 16, dataBytes } = opts;
  const b = Buffer.alloc(44);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(tag, 20);
  b.writeUInt16LE(channels, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE((rate * channels * bits) / 8, 28);
  b.writeUInt16LE((channels * bits) / 8, 32);
  b.writeUInt16LE(bits, 34);
  b.write('data', 36);
  b.writeUInt32LE(dataBytes, 40);
  return b;
}

describe('04 errors', () => {
  const t = tempDir();
  after(() => t.cleanup());
  const good = join(samplesDir, 'ljspeech_LJ001-0001.wav');

  it('missing file: ERR_NOT_FOUND with the path', async () => {
    const missing = join(t.dir, 'nope.wav');
    const err = await rejectsWith(loadAudio(missing), 'ERR_NOT_FOUND', /no such file/);
    assert.equal(err.file, missing);
    assert.ok(err.message.startsWith(missing));
  });

  it('empty file: ERR_DECODE "empty"', async () => {
    const f = join(t.dir, 'empty.wav');
    writeFileSync(f, '');
    const err = await rejectsWith(loadAudio(f), 'ERR_DECODE', /empty \(0 bytes\)/);
    assert.equal(err.file, f);
  });

  it('truncated WAV header: ERR_DECODE naming the file', async () => {
    const f = join(t.dir, 'truncated.wav');
    writeFileSync(f, readFileSync(good).subarray(0, 30));
    const err = await rejectsWith(loadAudio(f), 'ERR_DECODE', /fmt|data|ends/);
    assert.equal(err.file, f);
  });

  it('a text file named .wav: ERR_DECODE saying it is not audio', async () => {
    const f = join(t.dir, 'notes.wav');
    writeFileSync(f, 'These are my notes, not a recording.\n'.repeat(20));
    const err = await rejectsWith(loadAudio(f), 'ERR_DECODE', /cannot decode/, /Invalid data|not recognise/);
    assert.ok(err.message.includes(f));
  });

  it('a WAV whose header lies about its channel count or block align', async () => {
    const f = join(t.dir, 'zero-channels.wav');
    writeFileSync(f, Buffer.concat([wavHeader({ channels: 0, dataBytes: 4 }), Buffer.alloc(4)]));
    await rejectsWith(loadAudio(f), 'ERR_DECODE', /0 channels/);
  });

  it('NaN samples: ERR_DECODE saying where', async () => {
    const f = join(t.dir, 'nan.wav');
    const data = Buffer.alloc(16000 * 4);
    data.writeFloatLE(NaN, 8000 * 4);
    writeFileSync(f, Buffer.concat([wavHeader({ tag: 3, bits: 32, dataBytes: data.length }), data]));
    await rejectsWith(loadAudio(f), 'ERR_DECODE', /NaN or infinite sample at 0\.5000 s/);
  });

  it('a 5-hour clip is refused before it is read (ERR_TOO_LONG), and a span of it loads', async () => {
    // A sparse file: a real 5 h, 8 kHz, 8-bit WAV that takes no disk space.
    const f = join(t.dir, 'five-hours.wav');
    const dataBytes = 5 * 3600 * 8000;
    const fd = openSync(f, 'w');
    writeSync(fd, wavHeader({ rate: 8000, bits: 8, dataBytes }));
    ftruncateSync(fd, 44 + dataBytes);
    closeSync(fd);
    await rejectsWith(loadAudio(f), 'ERR_TOO_LONG', /5\.00 h/, /maxDurationSec/);
    const part = await loadAudio(f, { offsetSec: 3600, durationSec: 2 });
    assert.equal(part.samples.length, 16000);
    assert.equal(part.source.durationSec, 5 * 3600);
  });

  it('options: unknown option, wrong types and ranges name the option, the expectation and the value', async () => {
    await rejectsWith(loadAudio(good, { sampleRat: 16000 } as never), 'ERR_INVALID_ARG', /unknown option 'sampleRat'/, /sampleRate/);
    await rejectsWith(loadAudio(good, { sampleRate: 0 }), 'ERR_INVALID_ARG', /expected sampleRate to be an integer from 1 to 768000, but received 0 \(number\)/);
    await rejectsWith(loadAudio(good, { channel: 'left' as never }), 'ERR_INVALID_ARG', /channel/, /'left'/);
    await rejectsWith(loadAudio(good, { offsetSec: -1 }), 'ERR_INVALID_ARG', /offsetSec/);
    await rejectsWith(loadAudio(good, { durationSec: NaN }), 'ERR_INVALID_ARG', /durationSec/, /NaN/);
    await rejectsWith(loadAudio(good, { channel: 3 }), 'ERR_INVALID_ARG', /channel 3 does not exist/, /1 channel/);
    await rejectsWith(loadAudio(good, { offsetSec: 60 }), 'ERR_INVALID_ARG', /past the end/);
    await rejectsWith(loadAudio(42 as never), 'ERR_INVALID_ARG', /input/);
    await rejectsWith(resample(new Float32Array(4), 0, 16000), 'ERR_INVALID_ARG', /fromRate/);
    assert.throws(() => configure({ threads: 0 }), /expected threads to be an integer from 1/);
    assert.throws(() => configure({ thread: 2 } as never), /unknown option 'thread'/);
  });

  it('a file with no audio stream (a video without sound)', async () => {
    const f = join(t.dir, 'silent-video.mp4');
    const { ffmpeg } = await import('./helpers/index.js');
    ffmpeg(['-f', 'lavfi', '-i', 'color=c=black:s=64x64:d=1', '-c:v', 'mpeg4', f]);
    await rejectsWith(loadAudio(f), 'ERR_DECODE', /no audio stream/);
  });
});
