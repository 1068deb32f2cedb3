// Writing WAV files (PCM 16-bit or float 32-bit, mono).
import { writeFile } from 'node:fs/promises';

/** The 44-byte header of a mono WAV whose data chunk holds `dataBytes` bytes (16-bit PCM or float 32). */
export function wavHeader(dataBytes: number, sampleRate: number, format: 'pcm16' | 'float32' = 'pcm16'): Buffer {
  const bytesPerSample = format === 'pcm16' ? 2 : 4;
  const b = Buffer.alloc(44);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(format === 'pcm16' ? 1 : 3, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * bytesPerSample, 28);
  b.writeUInt16LE(bytesPerSample, 32);
  b.writeUInt16LE(bytesPerSample * 8, 34);
  b.write('data', 36);
  b.writeUInt32LE(dataBytes, 40);
  return b;
}

/** Encodes mono samples as a WAV file: 16-bit PCM (default, values clamped to [-1, 1)) or float 32. */
export function encodeWav(samples: Float32Array, sampleRate: number, format: 'pcm16' | 'float32' = 'pcm16'): Buffer {
  const dataBytes = samples.length * (format === 'pcm16' ? 2 : 4);
  const b = Buffer.alloc(44 + dataBytes);
  wavHeader(dataBytes, sampleRate, format).copy(b, 0);
  if (format === 'pcm16') {
    for (let i = 0; i < samples.length; i++) {
      const v = Math.round(samples[i]! * 32768);
      b.writeInt16LE(v > 32767 ? 32767 : v < -32768 ? -32768 : v, 44 + 2 * i);
    }
  } else {
    Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).copy(b, 44);
  }
  return b;
}

export function writeWav(path: string, samples: Float32Array, sampleRate: number, format: 'pcm16' | 'float32' = 'pcm16'): Promise<void> {
  return writeFile(path, encodeWav(samples, sampleRate, format));
}
