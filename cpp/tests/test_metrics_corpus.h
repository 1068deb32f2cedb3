// Corpus access shared by the metric tests (cpp/tests/test_metrics*.cpp) and the metric tools
// (cpp/tools/metrics_*.cpp): decoding (WAV with cpp/audio/wav.h, anything else with the ffmpeg
// command-line tool, which tests and tools may use and the core never does), file lists, and the
// corpus split.
//
// The split by SOURCE (speakers never cross it):
//   tuning/training: coqui_tts_ljspeech (LJSpeech), thorsten_voice_de, pyroomacoustics_samples
//     (CMU ARCTIC), deepspeech_smoke, speechbrain_samples, picovoice_eagle_speakers,
//     speech_commands_sc09, silero_vad_test, audiomentations_fixtures, openai_whisper_jfk
//   held-out test: resemblyzer_librispeech (LibriSpeech train-clean-100 / test-other),
//     picovoice_leopard_multilingual (8 languages), wenet_testwavs, funasr_examples (Mandarin)
// Noise files are split in time: the VAD model trains on the first half of every noise
// recording, the tests mix in the second half.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "audio/resample.h"
#include "audio/wav.h"

namespace voxqc::mtest {

struct Audio {
  std::vector<float> x;
  int rate = 0;
  bool ok() const { return rate > 0 && !x.empty(); }
};

inline std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

inline bool haveFfmpeg() { return std::system("ffmpeg -version >/dev/null 2>&1") == 0; }

// Decodes a file to mono float at its native rate (ffmpeg: the rate ffprobe reports, or forced).
inline Audio loadAudio(const std::string& path, int forceRate = 0) {
  Audio a;
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".wav" && forceRate == 0) {
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
      auto info = audio::parseWavHeader(bytes.data(), bytes.size(), bytes.size());
      a.x.resize(info.frames);
      audio::decodeWavFrames(info, bytes.data() + info.dataOffset, info.frames, audio::kMixChannels,
                             a.x.data());
      a.rate = int(info.sampleRate);
      return a;
    } catch (...) {
      a = Audio{};  // fall through to ffmpeg (e.g. ADPCM)
    }
  }
  int rate = forceRate;
  if (rate == 0) {
    FILE* p = popen(("ffprobe -v error -select_streams a:0 -show_entries stream=sample_rate -of csv=p=0 " +
                     shellQuote(path))
                        .c_str(),
                    "r");
    if (!p) return a;
    char buf[64] = {0};
    if (fgets(buf, sizeof buf, p)) rate = std::atoi(buf);
    pclose(p);
    if (rate <= 0) return a;
  }
  FILE* p = popen(("ffmpeg -nostdin -v error -i " + shellQuote(path) + " -f f32le -ac 1 -ar " +
                   std::to_string(rate) + " pipe:1")
                      .c_str(),
                  "r");
  if (!p) return a;
  std::vector<float> buf(1 << 14);
  size_t got;
  while ((got = fread(buf.data(), sizeof(float), buf.size(), p)) > 0) a.x.insert(a.x.end(), buf.begin(), buf.begin() + got);
  if (pclose(p) != 0) return Audio{};
  a.rate = rate;
  return a;
}

inline Audio toRate(const Audio& a, int rate) {
  if (a.rate == rate) return a;
  Audio b;
  b.rate = rate;
  b.x = audio::resample(a.x.data(), a.x.size(), a.rate, rate);
  return b;
}

// Files under corpus/dir with one of the extensions, sorted (deterministic).
inline std::vector<std::string> listFiles(const std::string& corpus, const std::string& dir,
                                          std::vector<std::string> exts = {".wav", ".flac"}) {
  std::vector<std::string> out;
  const auto root = std::filesystem::path(corpus) / dir;
  if (!std::filesystem::is_directory(root)) return out;
  for (auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    const auto ext = e.path().extension().string();
    if (std::find(exts.begin(), exts.end(), ext) != exts.end()) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Noise recordings used for SNR tests (all real recordings from corpus/noise), with a short name.
struct NoiseFile {
  const char* name;
  const char* path;
};
inline const std::vector<NoiseFile>& noiseFiles() {
  static const std::vector<NoiseFile> v = {
      {"running_tap", "noise/speech_commands_bg_noise/running_tap.wav"},
      {"dishes", "noise/speech_commands_bg_noise/doing_the_dishes.wav"},
      {"exercise_bike", "noise/speech_commands_bg_noise/exercise_bike.wav"},
      {"street_alley", "noise/audiomentations_fixtures/noise/perfect-alley1.ogg"},
      {"guitar_music", "noise/audiomentations_fixtures/noise/acoustic_guitar_0.wav"},
      {"cat_meowing", "noise/speech_commands_bg_noise/dude_miaowing.wav"},
      {"hens", "noise/audiomentations_fixtures/noise/hens.ogg"},
      {"sheep", "noise/audiomentations_fixtures/noise/sheep.ogg"},
      {"sb_noise1", "noise/speechbrain_samples/noise/noise1.wav"},
      {"sb_noise4", "noise/speechbrain_samples/noise/noise4.wav"},
      {"sb_noise5", "noise/speechbrain_samples/noise/noise5.wav"},
  };
  return v;
}

// One half of a noise recording at `rate`: half 0 = first half (training), 1 = second (tests).
inline Audio noiseHalf(const std::string& corpus, const char* rel, int rate, int half) {
  Audio a = toRate(loadAudio(corpus + "/" + rel), rate);
  if (!a.ok()) return a;
  const size_t mid = a.x.size() / 2;
  if (half == 0)
    a.x.resize(mid);
  else
    a.x.erase(a.x.begin(), a.x.begin() + mid);
  return a;
}

}  // namespace voxqc::mtest
