#include "audio/wav.h"

#include <cmath>
#include <cstring>
#include <sstream>
#include <vector>

#include "core/error.h"

namespace voxqc::audio {

namespace {

constexpr uint16_t kTagPcm = 0x0001;
constexpr uint16_t kTagFloat = 0x0003;
constexpr uint16_t kTagALaw = 0x0006;
constexpr uint16_t kTagMuLaw = 0x0007;
constexpr uint16_t kTagExtensible = 0xFFFE;
constexpr uint32_t kMaxChannels = 1024;
constexpr uint32_t kMaxSampleRate = 10'000'000;

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t le64(const uint8_t* p) { return le32(p) | (static_cast<uint64_t>(le32(p + 4)) << 32); }

std::string fourcc(const uint8_t* p) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    char c = static_cast<char>(p[i]);
    s += (c >= 32 && c < 127) ? c : '?';
  }
  return s;
}

const char* tagName(uint16_t tag) {
  switch (tag) {
    case 0x0002: return "Microsoft ADPCM";
    case 0x0011: return "IMA ADPCM";
    case 0x0031: return "GSM 6.10";
    case 0x0050: return "MPEG";
    case 0x0055: return "MP3";
    default: return "an encoding voxqc does not parse itself";
  }
}

float muLawToFloat(uint8_t u) {
  u = static_cast<uint8_t>(~u);
  int sign = u & 0x80, exponent = (u >> 4) & 0x07, mantissa = u & 0x0F;
  int magnitude = ((mantissa << 3) + 0x84) << exponent;
  int v = sign ? (0x84 - magnitude) : (magnitude - 0x84);
  return static_cast<float>(v) / 32768.0f;
}

float aLawToFloat(uint8_t a) {
  a ^= 0x55;
  int sign = a & 0x80, exponent = (a >> 4) & 0x07, mantissa = a & 0x0F;
  int magnitude = exponent == 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return static_cast<float>(sign ? magnitude : -magnitude) / 32768.0f;
}

struct Tables {
  float mu[256], a[256];
  Tables() {
    for (int i = 0; i < 256; ++i) {
      mu[i] = muLawToFloat(static_cast<uint8_t>(i));
      a[i] = aLawToFloat(static_cast<uint8_t>(i));
    }
  }
};
const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

WavInfo parseWavHeader(const uint8_t* head, size_t headSize, uint64_t fileSize) {
  if (fileSize == 0 || headSize == 0) throwDecode("the file is empty (0 bytes)");
  if (headSize < 12) throwDecode("too short for a WAV file (" + std::to_string(headSize) + " bytes)");
  const bool rf64 = std::memcmp(head, "RF64", 4) == 0;
  if (std::memcmp(head, "RIFF", 4) != 0 && !rf64) {
    if (std::memcmp(head, "RIFX", 4) == 0) {
      throw Error(ErrorCode::Unsupported, "big-endian WAV (RIFX) is decoded through ffmpeg");
    }
    throwDecode("not a WAV file: it starts with '" + fourcc(head) + "', not 'RIFF'");
  }
  if (std::memcmp(head + 8, "WAVE", 4) != 0) {
    throwDecode("RIFF file of type '" + fourcc(head + 8) + "', not 'WAVE'");
  }

  WavInfo info;
  bool haveFmt = false;
  uint64_t ds64DataSize = 0;
  size_t pos = 12;
  while (true) {
    if (pos + 8 > headSize) {
      if (pos + 8 > fileSize) {
        throwDecode(haveFmt ? "no 'data' chunk: the file ends after the header"
                            : "no 'fmt ' chunk before the end of the file");
      }
      throwDecode("no 'data' chunk within the first " + std::to_string(headSize) +
                  " bytes (header chunks too large)");
    }
    const uint8_t* chunk = head + pos;
    const std::string id = fourcc(chunk);
    uint64_t size = le32(chunk + 4);
    if (id == "fmt ") {
      if (size < 16) throwDecode("'fmt ' chunk of " + std::to_string(size) + " bytes (at least 16 needed)");
      if (pos + 8 + 16 > headSize) throwDecode("the file ends inside the 'fmt ' chunk");
      const uint8_t* f = chunk + 8;
      uint16_t tag = le16(f);
      info.channels = le16(f + 2);
      info.sampleRate = le32(f + 4);
      info.blockAlign = le16(f + 12);
      info.bitsPerSample = le16(f + 14);
      info.formatTag = tag;
      if (tag == kTagExtensible) {
        if (size < 40 || pos + 8 + 40 > headSize) {
          throwDecode("WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk shorter than 40 bytes");
        }
        info.extensible = true;
        uint16_t validBits = le16(f + 18);
        info.formatTag = le16(f + 24);  // first two bytes of the subformat GUID
        if (validBits != 0 && validBits > info.bitsPerSample) {
          throwDecode("EXTENSIBLE valid bits (" + std::to_string(validBits) +
                      ") exceed the container's bits per sample (" +
                      std::to_string(info.bitsPerSample) + ")");
        }
      }
      haveFmt = true;
    } else if (id == "ds64" && rf64) {
      if (pos + 8 + 28 > headSize) throwDecode("RF64 'ds64' chunk truncated");
      ds64DataSize = le64(chunk + 8 + 8);
    } else if (id == "data") {
      if (!haveFmt) throwDecode("'data' chunk before any 'fmt ' chunk");
      info.dataOffset = pos + 8;
      if (rf64 && size == 0xFFFFFFFFu) size = ds64DataSize;
      const uint64_t available = fileSize > info.dataOffset ? fileSize - info.dataOffset : 0;
      // 0 and 0xFFFFFFFF are what streaming writers (ffmpeg to a pipe, …) leave: "to the end".
      const bool unknownSize = (size == 0 && available > 0) || size == 0xFFFFFFFFu;
      if (unknownSize || size > available) {
        info.dataSizeClamped = !unknownSize;
        size = available;
      }
      info.dataBytes = size;
      break;
    }
    // Chunks are padded to an even size.
    uint64_t next = pos + 8 + size + (size & 1);
    if (next <= pos || next > fileSize) {
      throwDecode("chunk '" + id + "' at byte " + std::to_string(pos) + " claims " +
                  std::to_string(size) + " bytes, past the end of the file");
    }
    pos = static_cast<size_t>(next);
  }

  // Validate the format.
  if (info.channels == 0) throwDecode("the header says 0 channels");
  if (info.channels > kMaxChannels) {
    throwDecode("the header says " + std::to_string(info.channels) + " channels (at most " +
                std::to_string(kMaxChannels) + " supported)");
  }
  if (info.sampleRate == 0 || info.sampleRate > kMaxSampleRate) {
    throwDecode("the header says a sample rate of " + std::to_string(info.sampleRate) + " Hz");
  }
  switch (info.formatTag) {
    case kTagPcm:
      if (info.bitsPerSample == 8) {
        info.encoding = SampleEncoding::PcmUnsigned8;
      } else if (info.bitsPerSample == 16 || info.bitsPerSample == 24 || info.bitsPerSample == 32) {
        info.encoding = SampleEncoding::PcmSigned;
      } else {
        throwDecode("PCM with " + std::to_string(info.bitsPerSample) +
                    " bits per sample (8, 16, 24 or 32 expected)");
      }
      break;
    case kTagFloat:
      if (info.bitsPerSample != 32 && info.bitsPerSample != 64) {
        throwDecode("IEEE float with " + std::to_string(info.bitsPerSample) +
                    " bits per sample (32 or 64 expected)");
      }
      info.encoding = SampleEncoding::Float;
      break;
    case kTagMuLaw:
    case kTagALaw:
      if (info.bitsPerSample != 8) throwDecode("G.711 with " + std::to_string(info.bitsPerSample) + " bits per sample");
      info.encoding = info.formatTag == kTagMuLaw ? SampleEncoding::MuLaw : SampleEncoding::ALaw;
      break;
    default: {
      std::ostringstream os;
      os << "WAV encoding 0x" << std::hex << info.formatTag << " (" << tagName(info.formatTag) << ")";
      throw Error(ErrorCode::Unsupported, os.str());
    }
  }
  const uint32_t expectedAlign = info.channels * (info.bitsPerSample / 8);
  if (info.blockAlign != expectedAlign) {
    throwDecode("block align " + std::to_string(info.blockAlign) + " does not match " +
                std::to_string(info.channels) + " channels x " + std::to_string(info.bitsPerSample) +
                " bits (" + std::to_string(expectedAlign) + " bytes expected)");
  }
  info.frames = info.dataBytes / info.blockAlign;
  info.dataBytes = info.frames * info.blockAlign;
  return info;
}

namespace {

template <typename ReadSample>
int64_t decodeLoop(const WavInfo& info, const uint8_t* bytes, uint64_t frames, int channel,
                   float* out, ReadSample read) {
  const uint32_t ch = info.channels;
  const uint32_t bytesPerSample = info.bitsPerSample / 8;
  const uint32_t align = info.blockAlign;
  int64_t firstBad = -1;
  if (channel == kMixChannels && ch > 1) {
    const double scale = 1.0 / ch;
    for (uint64_t i = 0; i < frames; ++i) {
      const uint8_t* frame = bytes + i * align;
      double acc = 0;
      for (uint32_t c = 0; c < ch; ++c) acc += read(frame + c * bytesPerSample);
      float v = static_cast<float>(acc * scale);
      out[i] = v;
      if (firstBad < 0 && !std::isfinite(v)) firstBad = static_cast<int64_t>(i);
    }
  } else {
    const uint32_t c = channel == kMixChannels ? 0 : static_cast<uint32_t>(channel);
    const uint8_t* p = bytes + c * bytesPerSample;
    for (uint64_t i = 0; i < frames; ++i, p += align) {
      float v = static_cast<float>(read(p));
      out[i] = v;
      if (firstBad < 0 && !std::isfinite(v)) firstBad = static_cast<int64_t>(i);
    }
  }
  return firstBad;
}

}  // namespace

// decodeWavFrames trusts nothing about `info`: the addon hands it back from JavaScript, where it
// can be changed. A sample read must stay inside its frame, so the encoding, bits, channels and
// block align must agree exactly as the parser would have made them.
void checkWavInfo(const WavInfo& info) {
  bool bitsOk = false;
  switch (info.encoding) {
    case SampleEncoding::PcmUnsigned8:
    case SampleEncoding::MuLaw:
    case SampleEncoding::ALaw: bitsOk = info.bitsPerSample == 8; break;
    case SampleEncoding::PcmSigned: bitsOk = info.bitsPerSample == 16 || info.bitsPerSample == 24 || info.bitsPerSample == 32; break;
    case SampleEncoding::Float: bitsOk = info.bitsPerSample == 32 || info.bitsPerSample == 64; break;
    default:
      throwInvalidArg("decodeWav: unknown sample encoding " + std::to_string(static_cast<int>(info.encoding)) +
                      " (the info must come from wavInfo)");
  }
  if (!bitsOk) {
    throwInvalidArg("decodeWav: " + std::to_string(info.bitsPerSample) + " bits per sample do not fit encoding " +
                    std::to_string(static_cast<int>(info.encoding)) + " (the info must come from wavInfo)");
  }
  if (info.channels == 0 || info.channels > kMaxChannels ||
      info.blockAlign != info.channels * (info.bitsPerSample / 8)) {
    throwInvalidArg("decodeWav: block align " + std::to_string(info.blockAlign) + " does not match " +
                    std::to_string(info.channels) + " channel(s) x " + std::to_string(info.bitsPerSample) +
                    " bits (the info must come from wavInfo)");
  }
}

int64_t decodeWavFrames(const WavInfo& info, const uint8_t* bytes, uint64_t frames, int channel,
                        float* out) {
  checkWavInfo(info);
  if (channel != kMixChannels && (channel < 0 || static_cast<uint32_t>(channel) >= info.channels)) {
    throwInvalidArg("channel " + std::to_string(channel) + " does not exist: the file has " +
                    std::to_string(info.channels) + " channel(s), numbered from 0");
  }
  switch (info.encoding) {
    case SampleEncoding::PcmUnsigned8:
      return decodeLoop(info, bytes, frames, channel, out,
                        [](const uint8_t* p) { return (static_cast<float>(p[0]) - 128.0f) / 128.0f; });
    case SampleEncoding::PcmSigned:
      switch (info.bitsPerSample) {
        case 16:
          return decodeLoop(info, bytes, frames, channel, out, [](const uint8_t* p) {
            return static_cast<float>(static_cast<int16_t>(le16(p))) * (1.0f / 32768.0f);
          });
        case 24:
          return decodeLoop(info, bytes, frames, channel, out, [](const uint8_t* p) {
            int32_t v = static_cast<int32_t>((static_cast<uint32_t>(p[0]) << 8) |
                                             (static_cast<uint32_t>(p[1]) << 16) |
                                             (static_cast<uint32_t>(p[2]) << 24)) >> 8;
            return static_cast<float>(v) * (1.0f / 8388608.0f);
          });
        default:
          return decodeLoop(info, bytes, frames, channel, out, [](const uint8_t* p) {
            return static_cast<float>(static_cast<double>(static_cast<int32_t>(le32(p))) *
                                      (1.0 / 2147483648.0));
          });
      }
    case SampleEncoding::Float:
      if (info.bitsPerSample == 32) {
        return decodeLoop(info, bytes, frames, channel, out, [](const uint8_t* p) {
          uint32_t u = le32(p);
          float f;
          std::memcpy(&f, &u, 4);
          return f;
        });
      }
      return decodeLoop(info, bytes, frames, channel, out, [](const uint8_t* p) {
        uint64_t u = le64(p);
        double d;
        std::memcpy(&d, &u, 8);
        return d;
      });
    case SampleEncoding::MuLaw:
      return decodeLoop(info, bytes, frames, channel, out, [](const uint8_t* p) { return tables().mu[p[0]]; });
    case SampleEncoding::ALaw:
      return decodeLoop(info, bytes, frames, channel, out, [](const uint8_t* p) { return tables().a[p[0]]; });
  }
  return -1;
}

std::string describeEncoding(const WavInfo& info) {
  std::string base;
  switch (info.encoding) {
    case SampleEncoding::PcmUnsigned8: base = "PCM 8-bit unsigned"; break;
    case SampleEncoding::PcmSigned: base = "PCM " + std::to_string(info.bitsPerSample) + "-bit"; break;
    case SampleEncoding::Float: base = "float " + std::to_string(info.bitsPerSample) + "-bit"; break;
    case SampleEncoding::MuLaw: base = "mu-law"; break;
    case SampleEncoding::ALaw: base = "A-law"; break;
  }
  return info.extensible ? base + " (extensible)" : base;
}

}  // namespace voxqc::audio
