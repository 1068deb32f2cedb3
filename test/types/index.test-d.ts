// Type tests of the public API (tsd), run against the compiled declarations.
import { expectAssignable, expectError, expectType } from 'tsd';
import {
  configure,
  loadAudio,
  resample,
  runtimeInfo,
  VoxqcError,
  type Audio,
  type RuntimeInfo,
  type VoxqcConfig,
  type VoxqcErrorCode,
} from '../../dist/lib/index.js';

expectType<Promise<Audio>>(loadAudio('clip.wav'));
expectType<Promise<Audio>>(loadAudio(new Uint8Array(4), { sampleRate: 16000, channel: 'mix' }));
expectType<Promise<Audio>>(loadAudio('clip.flac', { channel: 1, offsetSec: 1, durationSec: 2 }));
expectError(loadAudio('clip.wav', { channel: 'left' }));
expectError(loadAudio('clip.wav', { sampleRat: 16000 }));
expectError(loadAudio(42));

const audio = await loadAudio('clip.wav');
expectType<Float32Array>(audio.samples);
expectType<number>(audio.sampleRate);
expectType<'wav' | 'ffmpeg'>(audio.source.decoder);
expectType<string | undefined>(audio.source.path);

expectType<Promise<Float32Array>>(resample(audio.samples, 44100, 16000));
expectType<VoxqcConfig>(configure({ threads: 2 }));
expectError(configure({ threads: '2' }));
expectType<Promise<RuntimeInfo>>(runtimeInfo());

const err = new VoxqcError('ERR_DECODE', 'x', { file: 'a.wav' });
expectType<VoxqcErrorCode>(err.code);
expectType<string | undefined>(err.file);
expectAssignable<Error>(err);
expectError(new VoxqcError('ERR_NOPE', 'x'));
