// Configuration of the learned grader (cpp/model): the JSON file `config.json` that sits next to
// the weights `model.pt`. Every field has a default (shown next to it, and written back in full by
// toJson), so `{}` is a valid config and a file only needs the fields it changes.
//
// JSON schema (camelCase; nested objects optional):
// {
//   "format": "voxqc-grader", "version": 1,
//   "fusion": "early" | "late" | "interactive",           // default "interactive"
//   "dModel": 128, "heads": 4, "ffDim": 256, "dropout": 0.1,
//   "fusionLayers": 2,           // joint layers (early), combiner layers over the pooled
//                                // modality vectors (late), cross-modal blocks (interactive)
//   "audio": {"sampleRate": 16000, "nFft": 400, "winLength": 400, "hopLength": 160, "nMels": 64,
//             "featOffset": -5.0, "featScale": 5.0, "layers": 2},
//             // input = (log(mel + 1e-6) - featOffset) / featScale, conv subsampling x4
//             // (two Conv1d k3 s2), then `layers` transformer layers; 1 token per 40 ms
//   "text":  {"enabled": true, "maxBytes": 512, "layers": 1},   // UTF-8 bytes + BOS/EOS
//   "video": {"enabled": true, "fps": 25.0, "height": 48, "width": 64,
//             "channels": [16, 32, 64], "layers": 1},             // uint8 grayscale frames
//   "metrics": [{"name": "snrDb", "offset": 20, "scale": 15,
//                "transform": "none" | "log10", "eps": 1e-5}, ...],  // see MetricSpec
//   "grades": ["high", "medium", "low"],
//   "flags": ["no_speech", ..., "av_offset"],                    // the 12 rubric flags
//   "snr": {"offset": 20.0, "scale": 10.0}                        // SNR head: dB = offset + scale*y
// }
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace voxqc::model {

enum class Fusion { Early, Late, Interactive };
const char* toString(Fusion f);
Fusion parseFusion(const std::string& s);  // throws Error(InvalidArg)

struct AudioConfig {
  int sampleRate = 16000;   // the model's input rate (clips at other rates are resampled)
  int nFft = 400;           // 25 ms
  int winLength = 400;      // 25 ms
  int hopLength = 160;      // 10 ms
  int nMels = 64;
  double featOffset = -5.0; // normalisation of log(mel + 1e-6)
  double featScale = 5.0;
  int layers = 2;           // transformer layers after the x4 subsampling
};

struct TextConfig {
  bool enabled = true;
  int maxBytes = 512;       // longer texts are cut at this many bytes (at a UTF-8 boundary)
  int layers = 1;
};

struct VideoConfig {
  bool enabled = true;
  double fps = 25.0;        // frame rate of the frames given (positions align with audio time)
  int height = 48;          // frames of another size are resized (bilinear) to this
  int width = 64;
  std::vector<int> channels = {16, 32, 64};  // per-frame CNN: stride-2 convs (5x5, then 3x3)
  int layers = 1;
};

// One metric score given to the model as an input token. Its value v (bools: 0/1) becomes
// x = (t(v) - offset) / scale, clamped to [-10, 10], where t is the identity ("transform":
// "none") or log10(max(v, 0) + eps) ("log10"). null / NaN / absent = unknown: the token is masked.
struct MetricSpec {
  std::string name;
  double offset = 0.0;
  double scale = 1.0;
  bool log10 = false;   // "transform": "log10"
  double eps = 1e-5;    // added before the log10
  double normalize(double v) const;  // NaN stays NaN
};

struct SnrHeadConfig {
  double offset = 20.0;
  double scale = 10.0;
};

struct ModelConfig {
  Fusion fusion = Fusion::Interactive;
  int dModel = 128;
  int heads = 4;
  int ffDim = 256;
  double dropout = 0.1;
  int fusionLayers = 2;
  AudioConfig audio;
  TextConfig text;
  VideoConfig video;
  std::vector<MetricSpec> metrics = defaultMetrics();
  std::vector<std::string> grades = defaultGrades();
  std::vector<std::string> flags = defaultFlags();
  SnrHeadConfig snr;

  static std::vector<MetricSpec> defaultMetrics();
  static std::vector<std::string> defaultGrades();  // high, medium, low
  static std::vector<std::string> defaultFlags();   // the 12 rubric flags, rubric order

  // Audio tokens per second after subsampling (sampleRate / hopLength / 4).
  double audioTokenRate() const;

  // Throws Error(InvalidArg) naming the field, its accepted range and the value.
  void validate() const;

  std::string toJson(int indent = 2) const;
  // `what` names the source in error messages (e.g. the file path).
  static ModelConfig fromJson(const std::string& json, const std::string& what = "config");
  static ModelConfig load(const std::string& path);  // Error(NotFound / InvalidArg)
  void save(const std::string& path) const;
};

}  // namespace voxqc::model
