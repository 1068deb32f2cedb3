// WAV (RIFF/RIFX-free, little-endian RIFF and RF64) parsing. voxqc parses WAV itself; every other
// container goes through ffmpeg (lib/ffmpeg.ts), which hands back WAV with float32 samples that
// this same parser reads.
//
// Supported encodings: PCM integer 8 (unsigned), 16, 24, 32 bit; IEEE float 32 and 64 bit;
// G.711 mu-law and A-law; each also inside WAVE_FORMAT_EXTENSIBLE. Any sample rate, any channel
// count up to 1024. Other encodings (ADPCM, GSM, …) raise ErrorCode::Unsupported so the caller
// can fall back to ffmpeg.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace voxqc::audio {

enum class SampleEncoding { PcmUnsigned8, PcmSigned, Float, MuLaw, ALaw };

struct WavInfo {
  SampleEncoding encoding = SampleEncoding::PcmSigned;
  uint16_t formatTag = 0;       // the effective tag (the subformat's, for EXTENSIBLE)
  bool extensible = false;      // WAVE_FORMAT_EXTENSIBLE
  uint32_t channels = 0;
  uint32_t sampleRate = 0;
  uint32_t bitsPerSample = 0;   // container bits per sample
  uint32_t blockAlign = 0;      // bytes per frame (all channels)
  uint64_t dataOffset = 0;      // byte offset of the first sample in the file
  uint64_t dataBytes = 0;       // usable bytes of sample data (whole frames only)
  uint64_t frames = 0;          // dataBytes / blockAlign
  bool dataSizeClamped = false; // the header claimed more data than the file holds (or
                                // "unknown size", as streamed WAVs do); frames counts what is there
};

// Parses the RIFF header. `head` holds the first `headSize` bytes of the file, which must include
// every chunk header up to and including the "data" chunk header; `fileSize` is the size of the
// whole file (used to clamp a data size that points past the end). Throws Error(Decode) with a
// precise reason for anything that is not a well-formed WAV, Error(Unsupported) for encodings
// parsed by ffmpeg instead.
WavInfo parseWavHeader(const uint8_t* head, size_t headSize, uint64_t fileSize);

// Channel selection for decoding: kMixChannels averages all channels; 0..channels-1 takes one.
constexpr int kMixChannels = -1;

// Decodes `frames` whole frames of interleaved sample data (`bytes` must hold frames*blockAlign
// bytes) into `out` (frames floats), scaled to [-1, 1) as ffmpeg does (integers divided by
// 2^(bits-1)), selecting or mixing channels. Returns the index of the first non-finite output
// sample, or -1 when all are finite.
int64_t decodeWavFrames(const WavInfo& info, const uint8_t* bytes, uint64_t frames, int channel,
                        float* out);

std::string describeEncoding(const WavInfo& info);  // e.g. "PCM 16-bit", "float 32-bit"

}  // namespace voxqc::audio
