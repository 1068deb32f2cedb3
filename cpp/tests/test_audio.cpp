// Native tests of the WAV parser and the resampler: closed-form inputs built in memory.
#include <cmath>
#include <cstring>
#include <vector>

#include "audio/resample.h"
#include "audio/wav.h"
#include "core/error.h"
#include "harness.h"

using namespace voxqc;
using namespace voxqc::audio;

namespace {

void put16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(v & 0xFF);
  b.push_back(v >> 8);
}
void put32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back((v >> (8 * i)) & 0xFF);
}
void putTag(std::vector<uint8_t>& b, const char* s) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(s[i]));
}

// A WAV file with the given format and raw sample bytes.
std::vector<uint8_t> makeWav(uint16_t tag, uint16_t channels, uint32_t rate, uint16_t bits,
                             const std::vector<uint8_t>& data, bool extensible = false) {
  std::vector<uint8_t> b;
  putTag(b, "RIFF");
  put32(b, 0);
  putTag(b, "WAVE");
  // A LIST chunk of odd size first: the parser must skip it and its pad byte.
  putTag(b, "LIST");
  put32(b, 3);
  b.push_back('a');
  b.push_back('b');
  b.push_back('c');
  b.push_back(0);
  putTag(b, "fmt ");
  put32(b, extensible ? 40 : 16);
  put16(b, extensible ? 0xFFFE : tag);
  put16(b, channels);
  put32(b, rate);
  put32(b, rate * channels * bits / 8);
  put16(b, channels * bits / 8);
  put16(b, bits);
  if (extensible) {
    put16(b, 22);
    put16(b, bits);
    put32(b, 0);
    put16(b, tag);
    const uint8_t guidTail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
    b.insert(b.end(), guidTail, guidTail + 14);
  }
  putTag(b, "data");
  put32(b, static_cast<uint32_t>(data.size()));
  b.insert(b.end(), data.begin(), data.end());
  uint32_t riff = static_cast<uint32_t>(b.size() - 8);
  std::memcpy(b.data() + 4, &riff, 4);
  return b;
}

std::vector<float> decodeAll(const std::vector<uint8_t>& file, int channel = kMixChannels) {
  WavInfo info = parseWavHeader(file.data(), file.size(), file.size());
  std::vector<float> out(info.frames);
  decodeWavFrames(info, file.data() + info.dataOffset, info.frames, channel, out.data());
  return out;
}

// Amplitude of the component of x at `freq` (cycles/sample), by least squares on sin and cos.
double toneAmplitude(const std::vector<float>& x, double freq, size_t from, size_t to) {
  double ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
  for (size_t i = from; i < to; ++i) {
    double s = std::sin(2 * M_PI * freq * i), c = std::cos(2 * M_PI * freq * i);
    ss += s * s; cc += c * c; sc += s * c; xs += x[i] * s; xc += x[i] * c;
  }
  double det = ss * cc - sc * sc;
  double a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det;
  return std::sqrt(a * a + b * b);
}

double rms(const std::vector<float>& x, size_t from, size_t to) {
  double s = 0;
  for (size_t i = from; i < to; ++i) s += static_cast<double>(x[i]) * x[i];
  return std::sqrt(s / (to - from));
}

std::vector<float> sine(double freqHz, double rate, size_t n, double amp = 0.5) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(amp * std::sin(2 * M_PI * freqHz * i / rate));
  return x;
}

}  // namespace

VOXQC_TEST(wav_pcm16_values_and_channels) {
  std::vector<uint8_t> d;
  // frames: (L,R) = (32767,-32768), (0, 16384)
  put16(d, 32767); put16(d, static_cast<uint16_t>(-32768));
  put16(d, 0); put16(d, 16384);
  auto f = makeWav(1, 2, 16000, 16, d);
  WavInfo info = parseWavHeader(f.data(), f.size(), f.size());
  CHECK_EQ(info.channels, 2u);
  CHECK_EQ(info.sampleRate, 16000u);
  CHECK_EQ(info.frames, 2u);
  auto left = decodeAll(f, 0), right = decodeAll(f, 1), mix = decodeAll(f);
  CHECK_EQ(left[0], 32767.0f / 32768.0f);
  CHECK_EQ(right[0], -1.0f);
  CHECK_EQ(right[1], 0.5f);
  CHECK_NEAR(mix[0], (32767.0 / 32768.0 - 1.0) / 2, 1e-7);
  CHECK_NEAR(mix[1], 0.25, 1e-7);
  CHECK_THROWS_CODE(decodeAll(f, 2), ErrorCode::InvalidArg, "2 channel(s)");
}

VOXQC_TEST(wav_every_encoding_closed_form) {
  {  // unsigned 8-bit
    auto f = makeWav(1, 1, 8000, 8, {0, 128, 255});
    auto x = decodeAll(f);
    CHECK_EQ(x[0], -1.0f); CHECK_EQ(x[1], 0.0f); CHECK_EQ(x[2], 127.0f / 128.0f);
  }
  {  // 24-bit: -8388608, 1, 8388607
    std::vector<uint8_t> d = {0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0x7F};
    auto x = decodeAll(makeWav(1, 1, 44100, 24, d));
    CHECK_EQ(x[0], -1.0f); CHECK_EQ(x[1], 1.0f / 8388608.0f); CHECK_EQ(x[2], 8388607.0f / 8388608.0f);
  }
  {  // 32-bit int
    std::vector<uint8_t> d; put32(d, 0x80000000u); put32(d, 0x40000000u);
    auto x = decodeAll(makeWav(1, 1, 48000, 32, d));
    CHECK_EQ(x[0], -1.0f); CHECK_EQ(x[1], 0.5f);
  }
  {  // float 32 and 64, and extensible float
    std::vector<uint8_t> d(8); float a = 0.25f, b = -0.75f;
    std::memcpy(d.data(), &a, 4); std::memcpy(d.data() + 4, &b, 4);
    auto x = decodeAll(makeWav(3, 1, 16000, 32, d));
    CHECK_EQ(x[0], 0.25f); CHECK_EQ(x[1], -0.75f);
    auto y = decodeAll(makeWav(3, 1, 16000, 32, d, /*extensible=*/true));
    CHECK_EQ(y[1], -0.75f);
    std::vector<uint8_t> e(8); double c = -0.125;
    std::memcpy(e.data(), &c, 8);
    CHECK_EQ(decodeAll(makeWav(3, 1, 16000, 64, e))[0], -0.125f);
  }
  {  // G.711: mu-law 0xFF and A-law 0xD5 are zero; mu-law 0x80 is +32124/32768
    CHECK_EQ(decodeAll(makeWav(7, 1, 8000, 8, {0xFF}))[0], 0.0f);
    CHECK_EQ(decodeAll(makeWav(7, 1, 8000, 8, {0x80}))[0], 32124.0f / 32768.0f);
    CHECK_EQ(decodeAll(makeWav(6, 1, 8000, 8, {0xD5}))[0], 8.0f / 32768.0f);
  }
}

VOXQC_TEST(wav_nonfinite_samples_are_located) {
  std::vector<uint8_t> d(12);
  float v[3] = {0.1f, NAN, 0.2f};
  std::memcpy(d.data(), v, 12);
  auto f = makeWav(3, 1, 16000, 32, d);
  WavInfo info = parseWavHeader(f.data(), f.size(), f.size());
  std::vector<float> out(3);
  CHECK_EQ(decodeWavFrames(info, f.data() + info.dataOffset, 3, kMixChannels, out.data()), 1);
}

VOXQC_TEST(wav_header_errors) {
  const uint8_t text[] = "hello, this is a text file and not audio at all";
  CHECK_THROWS_CODE(parseWavHeader(text, sizeof text, sizeof text), ErrorCode::Decode, "starts with 'hell'");
  CHECK_THROWS_CODE(parseWavHeader(text, 0, 0), ErrorCode::Decode, "empty");
  auto good = makeWav(1, 1, 16000, 16, {1, 0, 2, 0});
  // Truncated inside the header: only the first 30 bytes exist.
  CHECK_THROWS_CODE(parseWavHeader(good.data(), 30, 30), ErrorCode::Decode, "");
  // Zero channels.
  auto zero = good; zero[12 + 12 + 8 + 2] = 0;
  CHECK_THROWS_CODE(parseWavHeader(zero.data(), zero.size(), zero.size()), ErrorCode::Decode, "0 channels");
  // Block align that lies.
  auto badAlign = good; badAlign[12 + 12 + 8 + 12] = 7;
  CHECK_THROWS_CODE(parseWavHeader(badAlign.data(), badAlign.size(), badAlign.size()), ErrorCode::Decode, "block align");
  // ADPCM: valid WAV, encoding left to ffmpeg.
  auto adpcm = makeWav(2, 1, 16000, 16, {1, 0});
  CHECK_THROWS_CODE(parseWavHeader(adpcm.data(), adpcm.size(), adpcm.size()), ErrorCode::Unsupported, "ADPCM");
}

VOXQC_TEST(wav_data_size_past_end_is_clamped) {
  auto f = makeWav(1, 1, 16000, 16, {1, 0, 2, 0, 3, 0});
  // Claim 1000 bytes of data; 6 exist. Also cut the last byte: 2 whole frames remain.
  size_t dataSizePos = f.size() - 6 - 4;
  uint32_t lie = 1000; std::memcpy(f.data() + dataSizePos, &lie, 4);
  f.pop_back();
  WavInfo info = parseWavHeader(f.data(), f.size(), f.size());
  CHECK(info.dataSizeClamped);
  CHECK_EQ(info.frames, 2u);
}

VOXQC_TEST(resampler_passband_ripple_and_stopband) {
  struct Case { int from, to; };
  const Case cases[] = {{44100, 16000}, {16000, 44100}, {22050, 16000}, {48000, 44100}, {8000, 16000}};
  for (const auto& c : cases) {
    Resampler r(c.from, c.to);
    const double lowerNyquist = 0.5 * std::min(c.from, c.to);
    const size_t n = static_cast<size_t>(c.from);  // 1 s
    double worstRipple = 0, worstLeak = -1e9;
    for (double frac : {0.02, 0.1, 0.3, 0.5, 0.7, 0.85, 0.9}) {
      const double f = frac * lowerNyquist;
      auto x = sine(f, c.from, n);
      std::vector<float> y(r.outputLength(n));
      r.process(x.data(), n, y.data());
      size_t edge = y.size() / 8;
      double amp = toneAmplitude(y, f / c.to, edge, y.size() - edge);
      worstRipple = std::max(worstRipple, std::fabs(20 * std::log10(amp / 0.5)));
    }
    if (c.to < c.from) {
      for (double frac : {1.0, 1.05, 1.3, 1.8, 2.5}) {
        const double f = frac * lowerNyquist;
        if (f >= 0.5 * c.from) continue;
        auto x = sine(f, c.from, n);
        std::vector<float> y(r.outputLength(n));
        r.process(x.data(), n, y.data());
        size_t edge = y.size() / 8;
        double leak = 20 * std::log10(rms(y, edge, y.size() - edge) / (0.5 / std::sqrt(2.0)) + 1e-30);
        worstLeak = std::max(worstLeak, leak);
      }
    }
    std::cout << "        " << c.from << "->" << c.to << ": passband ripple " << worstRipple
              << " dB, worst stopband leak " << worstLeak << " dB, taps " << r.tapsPerPhase() << "\n";
    CHECK(worstRipple < 0.001);
    if (c.to < c.from) CHECK(worstLeak < -95.0);
  }
}

VOXQC_TEST(resampler_lengths_and_identity_of_dc) {
  Resampler r(44100, 16000);
  CHECK_EQ(r.outputLength(44100), 16000u);
  CHECK_EQ(r.outputLength(1), 1u);
  CHECK_EQ(r.outputLength(0), 0u);
  std::vector<float> dc(44100, 0.25f), y(16000);
  r.process(dc.data(), dc.size(), y.data());
  CHECK_NEAR(y[8000], 0.25, 1e-6);  // unit DC gain away from the edges
  CHECK_THROWS_CODE(Resampler(0, 16000), ErrorCode::InvalidArg, "source rate");
  // A ratio with more than 4096 phases takes the interpolated table.
  Resampler odd(16001, 16000);
  auto x = sine(1000, 16001, 16001);
  std::vector<float> z(odd.outputLength(x.size()));
  odd.process(x.data(), x.size(), z.data());
  CHECK_NEAR(toneAmplitude(z, 1000.0 / 16000, 2000, 14000), 0.5, 0.5 * 1e-4);
}
