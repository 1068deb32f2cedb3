// A generator of small prepared datasets from synthetic signals (for tests and smoke runs): a
// harmonic "voice" with a syllable-rate envelope, graded by the rubric from what was planted:
//   high   : clean (SNR 40 dB)
//   medium : white noise at SNR 15 dB                     -> flag "noisy"
//   low    : white noise at SNR 2 dB (-> "low_snr") or hard clipping (-> "clipping"), alternately
// Writes 16 kHz 16-bit WAVs, optional .vxv mouth-crop videos (a blob that opens with the
// envelope), and manifest.jsonl in the prepared-data format (train/data.h). Deterministic.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace voxqc::train {

struct SynthOptions {
  int speakers = 10;
  int clipsPerSpeaker = 6;      // grades cycle high, medium, low within a speaker
  double seconds = 1.0;         // clip length (each clip varies by up to +-30%)
  uint64_t seed = 7;
  double textFraction = 0.5;    // share of clips with a transcript (English or Chinese)
  double videoFraction = 0.0;   // share of clips with a video (48x64 crops, 25 fps)
  double scoresFraction = 0.5;  // share of clips with known metric scores (the rest null)
  bool explicitSplit = false;   // false: split null (assigned by speaker hash); true: last speaker "val"
  int sampleRate = 16000;
  // Real speech instead of the synthetic voice: each WAV (any rate; resampled, cut to `seconds`)
  // gives three clips, one per grade; speakers[i] names the speaker of speechFiles[i]
  // (speakers/clipsPerSpeaker are then unused).
  std::vector<std::string> speechFiles, speechSpeakers;
};

// Returns the path of manifest.jsonl in dir (created).
std::string writeSyntheticDataset(const std::string& dir, const SynthOptions& options = {});

// Writes a mono 16-bit PCM WAV.
void writeWav16(const std::string& path, const std::vector<float>& samples, int sampleRate);

}  // namespace voxqc::train
