// Prepared training data (the TypeScript side writes it): a JSONL manifest, one example a line:
//   {"id": str, "audio": "/abs/path.wav", "text": str|null, "video": "/abs/path.vxv"|null,
//    "scores": {name: number|bool|null}, "speaker": str, "source": str,
//    "split": "train"|"val"|null,
//    "label": {"grade": "high"|"medium"|"low", "flags": [names], "truth": {"snrDb": number?, ...}}}
// Relative paths are taken relative to the manifest's directory. A missing speaker counts as
// the example's own id (its own speaker). split null: assigned by a hash of the speaker.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/config.h"

namespace voxqc::train {

struct Example {
  std::string id, audioPath, videoPath, speaker, source;
  std::optional<std::string> text;
  std::map<std::string, double> scores;  // null -> NaN, bools -> 0/1
  std::string split;                     // "train" or "val" after assignSplits; "" when not given
  int grade = -1;                        // index in config.grades
  std::vector<float> flags;              // config.flags order, 0/1
  double snrDb = std::numeric_limits<double>::quiet_NaN();  // label.truth.snrDb (NaN = unknown)
  int64_t numSamples = 0;                // at the model's rate (from the WAV header), for bucketing
  int line = 0;                          // 1-based line in the manifest
};

// Resolves a --data argument: a .jsonl file, or a directory holding manifest.jsonl (or exactly
// one *.jsonl file). Throws Error(NotFound / InvalidArg).
std::string resolveManifest(const std::string& pathOrDir);

// Reads and validates the manifest (labels against cfg.grades / cfg.flags) and reads each WAV
// header (numSamples). Errors name the file and line: Error(InvalidArg / NotFound / Decode).
std::vector<Example> readManifest(const std::string& manifestPath, const model::ModelConfig& cfg);

// 64-bit FNV-1a of the speaker name; fraction in [0, 1) used for the split.
double speakerHashFraction(const std::string& speaker);

struct SplitInfo {
  int64_t trainExamples = 0, valExamples = 0, trainSpeakers = 0, valSpeakers = 0;
  int64_t assignedByHash = 0;  // examples whose split was null
};
// Examples with split null go to "val" when speakerHashFraction(speaker) < valFraction, so a
// speaker is never on both sides through hashing. When that leaves no validation data at all and
// there are >= 2 such speakers, the speaker with the smallest hash goes to validation. A speaker
// given explicitly on both sides is allowed (the manifest's choice) but counted.
SplitInfo assignSplits(std::vector<Example>& examples, double valFraction);

// Audio of a WAV file as mono float samples at `rate` (channels averaged, resampled if needed).
std::vector<float> loadWavMono(const std::string& path, int rate);

// A .vxv raw frames file: little-endian uint32 magic 0x56585156 ('VXQV'), frames, height, width,
// then frames*height*width uint8. Returns [F, H, W] uint8. Error(Decode) naming the file.
at::Tensor loadVxv(const std::string& path);
// Writes one (tests, tools).
void writeVxv(const std::string& path, const at::Tensor& frames);

}  // namespace voxqc::train
