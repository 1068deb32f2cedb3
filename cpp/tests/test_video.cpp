// Native tests of the audio-video offset estimator (cpp/video/av_offset.h): sign convention on a
// synthetic talking "mouth", argument checks, and GRID talking-head videos (../shared/corpus)
// decoded with ffmpeg (popen) and shifted by known offsets on the video clock.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "harness.h"
#include "video/av_offset.h"

namespace {

using voxqc::video::AvOffsetOptions;
using voxqc::video::estimateAvOffset;

// A synthetic clip: a dark "mouth" rectangle that opens with a syllable-rate envelope, and noise
// whose loudness and spectrum follow the same envelope `lagMs` later (positive: audio later).
struct Synthetic {
  std::vector<uint8_t> frames;
  std::vector<float> audio;
  int n = 0, w = 60, h = 36, rate = 16000;
  double fps = 25;
};

double syllableEnvelope(double t) {
  // Irregular syllables between 0.5 and 3.5 s.
  static const double onsets[] = {0.5, 0.78, 1.2, 1.38, 1.9, 2.3, 2.45, 2.9, 3.2};
  static const double lens[] = {0.18, 0.3, 0.12, 0.35, 0.25, 0.1, 0.3, 0.2, 0.25};
  double e = 0;
  for (int i = 0; i < 9; ++i) {
    const double x = (t - onsets[i]) / lens[i];
    if (x > 0 && x < 1) e = std::max(e, std::sin(M_PI * x));
  }
  return e;
}

Synthetic makeSynthetic(double lagMs, double seconds = 4.0) {
  Synthetic s;
  s.n = static_cast<int>(seconds * s.fps);
  s.frames.assign(size_t(s.n) * s.w * s.h, 150);
  for (int i = 0; i < s.n; ++i) {
    const double open = syllableEnvelope(i / s.fps);
    const int half = static_cast<int>(std::lround(1 + 8 * open));
    for (int y = 18 - half; y < 18 + half; ++y)
      for (int x = 18; x < 42; ++x) s.frames[(size_t(i) * s.h + y) * s.w + x] = 40;
  }
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.f, 1.f);
  const size_t ns = size_t(seconds * s.rate);
  s.audio.resize(ns);
  double lp = 0;
  for (size_t k = 0; k < ns; ++k) {
    const double t = double(k) / s.rate - lagMs / 1000.0;
    const double e = syllableEnvelope(t);
    // Spectrum tilts with the envelope (a one-pole low-pass that opens up).
    const double a = 0.9 - 0.6 * e;
    lp = a * lp + (1 - a) * g(rng);
    s.audio[k] = float((0.002 + 0.5 * e) * lp);
  }
  return s;
}

// --- ffmpeg helpers -----------------------------------------------------------------------------
std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::vector<uint8_t> runBinary(const std::string& cmd) {
  std::vector<uint8_t> out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  uint8_t buf[1 << 16];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, p)) > 0) out.insert(out.end(), buf, buf + got);
  if (pclose(p) != 0) out.clear();
  return out;
}

bool haveFfmpeg() { return std::system("ffmpeg -version >/dev/null 2>&1") == 0; }

// The crop lib/video.ts decodes: x 1/3..2/3, y 2/3..11/12 of the frame, 60x36 gray, 25 fps.
constexpr int kW = 60, kH = 36;
struct Clip {
  std::string name;
  std::vector<uint8_t> frames;
  std::vector<float> audio;
  int n = 0;
};

Clip decodeClip(const std::filesystem::path& file) {
  Clip c;
  c.name = file.stem().string();
  const std::string q = shellQuote(file.string());
  c.frames = runBinary("ffmpeg -nostdin -v error -i " + q +
                       " -map 0:v:0 -vf 'fps=25,crop=iw/3:ih/4:iw/3:ih*2/3,scale=60:36,format=gray' -f rawvideo pipe:1");
  c.n = int(c.frames.size() / (kW * kH));
  auto a = runBinary("ffmpeg -nostdin -v error -i " + q + " -map 0:a:0 -ac 1 -ar 16000 -f f32le pipe:1");
  c.audio.resize(a.size() / 4);
  std::copy(a.begin(), a.begin() + c.audio.size() * 4, reinterpret_cast<uint8_t*>(c.audio.data()));
  return c;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

VOXQC_TEST(video_synthetic_sign_convention) {
  for (double lag : {-400.0, -150.0, 0.0, 120.0, 350.0}) {
    Synthetic s = makeSynthetic(lag);
    AvOffsetOptions o;
    o.leadMs = 0;
    auto r = estimateAvOffset(s.frames.data(), s.n, s.w, s.h, s.fps, s.audio.data(), s.audio.size(), s.rate, o);
    CHECK_NEAR(r.offsetMs, lag, 25.0);
    CHECK(r.confidence > 0.3);
    CHECK_EQ(int(r.curve.size()), 201);
  }
}

VOXQC_TEST(video_synthetic_audio_start_moves_the_estimate) {
  // Audio that starts 0.25 s after frame 0 on the video clock is 250 ms later than the lips.
  Synthetic s = makeSynthetic(0);
  AvOffsetOptions o;
  o.leadMs = 0;
  o.audioStartSec = 0.25;
  auto r = estimateAvOffset(s.frames.data(), s.n, s.w, s.h, s.fps, s.audio.data(), s.audio.size(), s.rate, o);
  CHECK_NEAR(r.offsetMs, 250.0, 25.0);
  // The default lead correction is subtracted.
  AvOffsetOptions d;
  d.audioStartSec = 0.25;
  auto r2 = estimateAvOffset(s.frames.data(), s.n, s.w, s.h, s.fps, s.audio.data(), s.audio.size(), s.rate, d);
  CHECK_NEAR(r2.offsetMs, r.offsetMs - AvOffsetOptions::kDefaultLeadMs, 1e-9);
}

VOXQC_TEST(video_silence_and_still_video_give_zero_confidence) {
  Synthetic s = makeSynthetic(0);
  std::vector<float> silence(s.audio.size(), 0.f);
  auto r = estimateAvOffset(s.frames.data(), s.n, s.w, s.h, s.fps, silence.data(), silence.size(), s.rate);
  CHECK_EQ(r.confidence, 0.0);
  std::vector<uint8_t> still(s.frames.size(), 128);
  auto r2 = estimateAvOffset(still.data(), s.n, s.w, s.h, s.fps, s.audio.data(), s.audio.size(), s.rate);
  CHECK_EQ(r2.confidence, 0.0);
  CHECK_EQ(r2.offsetMs, 0.0);
}

VOXQC_TEST(video_argument_errors) {
  Synthetic s = makeSynthetic(0);
  using voxqc::ErrorCode;
  CHECK_THROWS_CODE(estimateAvOffset(s.frames.data(), 20, s.w, s.h, s.fps, s.audio.data(), s.audio.size(), s.rate),
                    ErrorCode::InvalidArg, "too short");
  CHECK_THROWS_CODE(estimateAvOffset(s.frames.data(), s.n, s.w, s.h, 0.0, s.audio.data(), s.audio.size(), s.rate),
                    ErrorCode::InvalidArg, "fps");
  CHECK_THROWS_CODE(estimateAvOffset(s.frames.data(), s.n, 4, s.h, s.fps, s.audio.data(), s.audio.size(), s.rate),
                    ErrorCode::InvalidArg, "frame size");
  CHECK_THROWS_CODE(estimateAvOffset(s.frames.data(), s.n, s.w, s.h, s.fps, s.audio.data(), 100, s.rate),
                    ErrorCode::InvalidArg, "audio is too short");
  CHECK_THROWS_CODE(estimateAvOffset(s.frames.data(), s.n, s.w, s.h, s.fps, s.audio.data(), s.audio.size(), 100),
                    ErrorCode::InvalidArg, "sampleRate");
  AvOffsetOptions o;
  o.maxOffsetMs = 0;
  CHECK_THROWS_CODE(estimateAvOffset(s.frames.data(), s.n, s.w, s.h, s.fps, s.audio.data(), s.audio.size(), s.rate, o),
                    ErrorCode::InvalidArg, "maxOffsetMs");
}

// GRID: every video at planted shifts (audio placed later/earlier on the video clock). Ground
// truth (a): the originals are in sync, error = est - shift. (b) relative: error = est(shifted) -
// est(original) - shift. The lead correction used for (a) is calibrated leave-one-video-out
// (median raw lag of the other videos), so no video is scored with a constant fitted on itself.
VOXQC_TEST(video_grid_planted_shifts) {
  const std::string corpus = voxqc::test::corpusDir();
  if (corpus.empty()) VOXQC_SKIP("../shared/corpus is absent (set VOXQC_CORPUS): GRID videos not available");
  const auto dir = std::filesystem::path(corpus) / "video" / "grid_lipnet_videos";
  if (!std::filesystem::is_directory(dir)) VOXQC_SKIP("no " + dir.string());
  if (!haveFfmpeg()) VOXQC_SKIP("ffmpeg is not installed");
  std::vector<std::filesystem::path> files;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".mpg") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  CHECK(files.size() >= 5);

  const std::vector<double> shifts = {-600, -300, -120, 0, 120, 300, 600};
  std::vector<Clip> clips;
  std::vector<double> raw0;
  for (auto& f : files) {
    clips.push_back(decodeClip(f));
    const Clip& c = clips.back();
    CHECK(c.n >= 50);
    CHECK(c.audio.size() > 16000);
    AvOffsetOptions o;
    o.leadMs = 0;
    raw0.push_back(estimateAvOffset(c.frames.data(), c.n, kW, kH, 25, c.audio.data(), c.audio.size(), 16000, o).offsetMs);
  }
  std::cout << "    raw lag of the originals (ms):";
  for (double r : raw0) std::cout << " " << std::lround(r);
  std::cout << "  median " << median(raw0) << " (default leadMs " << AvOffsetOptions::kDefaultLeadMs << ")\n";

  int total = 0, okAbs = 0, okRel = 0, okAbsDefault = 0;
  for (size_t v = 0; v < clips.size(); ++v) {
    const Clip& c = clips[v];
    std::vector<double> others;
    for (size_t u = 0; u < clips.size(); ++u)
      if (u != v) others.push_back(raw0[u]);
    const double lead = median(others);
    std::cout << "    " << std::left << std::setw(16) << c.name << std::right << " lead " << std::setw(3)
              << std::lround(lead) << "  err(abs):";
    double est0 = 0;
    for (double sh : shifts) {
      AvOffsetOptions o;
      o.leadMs = 0;
      o.audioStartSec = sh / 1000.0;
      auto r = estimateAvOffset(c.frames.data(), c.n, kW, kH, 25, c.audio.data(), c.audio.size(), 16000, o);
      if (sh == 0) est0 = r.offsetMs;
      const double errAbs = r.offsetMs - lead - sh;
      const double errDefault = r.offsetMs - AvOffsetOptions::kDefaultLeadMs - sh;
      const double errRel = r.offsetMs - raw0[v] - sh;
      ++total;
      okAbs += std::fabs(errAbs) <= 40;
      okAbsDefault += std::fabs(errDefault) <= 40;
      okRel += std::fabs(errRel) <= 40;
      std::cout << " " << std::setw(4) << std::lround(errAbs);
    }
    (void)est0;
    std::cout << "\n";
  }
  const double pAbs = 100.0 * okAbs / total, pRel = 100.0 * okRel / total, pDef = 100.0 * okAbsDefault / total;
  std::cout << "    " << total << " shifted videos: within +-40 ms " << pAbs << "% (absolute, LOO lead), " << pDef
            << "% (absolute, default lead), " << pRel << "% (relative to the original's estimate)\n";
  CHECK(pRel >= 90.0);
  CHECK(pAbs >= 90.0);

  // Harder, reported and loosely checked: the shifted audio cut to the video's span (what a
  // remux that trims the audio to the picture leaves), so up to |shift| of speech has no partner.
  int okCut = 0, totalCut = 0;
  std::cout << "    audio cut to the video span, err(abs, default lead) at shifts";
  for (double sh : shifts) std::cout << " " << sh;
  std::cout << ":\n";
  for (const Clip& c : clips) {
    std::cout << "    " << std::left << std::setw(16) << c.name << std::right;
    const double videoSec = c.n / 25.0;
    for (double sh : shifts) {
      const double start = std::max(0.0, sh / 1000.0);
      const size_t skip = sh < 0 ? size_t(-sh / 1000.0 * 16000) : 0;
      const size_t keep = std::min(c.audio.size() - skip, size_t((videoSec - start) * 16000));
      AvOffsetOptions o;
      o.audioStartSec = start;
      auto r = estimateAvOffset(c.frames.data(), c.n, kW, kH, 25, c.audio.data() + skip, keep, 16000, o);
      const double err = r.offsetMs - sh;
      ++totalCut;
      okCut += std::fabs(err) <= 40;
      std::cout << " " << std::setw(4) << std::lround(err);
    }
    std::cout << "\n";
  }
  std::cout << "    cut audio: within +-40 ms " << 100.0 * okCut / totalCut << "%\n";
  CHECK(okCut * 2 >= totalCut);
}
