#include "train/data.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "audio/resample.h"
#include "audio/wav.h"
#include "core/error.h"

namespace voxqc::train {

namespace fs = std::filesystem;
using nlohmann::json;

std::string resolveManifest(const std::string& p) {
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) return p;
  if (!fs::is_directory(p, ec)) throw Error(ErrorCode::NotFound, "training data " + p + ": not found");
  fs::path m = fs::path(p) / "manifest.jsonl";
  if (fs::is_regular_file(m, ec)) return m.string();
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(p, ec))
    if (e.is_regular_file() && e.path().extension() == ".jsonl") found.push_back(e.path());
  if (found.size() == 1) return found[0].string();
  if (found.empty())
    throw Error(ErrorCode::NotFound, "training data " + p + ": no manifest.jsonl (or other .jsonl file) in the directory");
  throwInvalidArg("training data " + p + ": several .jsonl files and no manifest.jsonl; name the manifest file");
}

namespace {

std::string readFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::NotFound, what + " " + path + ": cannot open the file");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return s;
}

std::string resolvePath(const fs::path& base, const std::string& p) {
  fs::path q(p);
  if (q.is_absolute()) return p;
  return (base / q).lexically_normal().string();
}

}  // namespace

std::vector<Example> readManifest(const std::string& manifestPath, const model::ModelConfig& cfg) {
  std::ifstream in(manifestPath, std::ios::binary);
  if (!in) throw Error(ErrorCode::NotFound, "manifest " + manifestPath + ": cannot open the file");
  const fs::path base = fs::path(manifestPath).parent_path();
  std::vector<Example> out;
  std::string line;
  int lineNo = 0;
  std::set<std::string> ids;
  while (std::getline(in, line)) {
    ++lineNo;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = "manifest " + manifestPath + " line " + std::to_string(lineNo);
    json j;
    try {
      j = json::parse(line);
    } catch (const std::exception& e) {
      throwInvalidArg(where + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object()) throwInvalidArg(where + ": each line must be a JSON object");
    Example ex;
    ex.line = lineNo;
    try {
      ex.id = j.value("id", std::string());
      if (ex.id.empty()) ex.id = "line" + std::to_string(lineNo);
      if (!j.contains("audio") || !j["audio"].is_string()) throwInvalidArg(where + ": \"audio\" (a WAV path) is required");
      ex.audioPath = resolvePath(base, j["audio"].get<std::string>());
      if (j.contains("text") && j["text"].is_string()) ex.text = j["text"].get<std::string>();
      else if (j.contains("text") && !j["text"].is_null()) throwInvalidArg(where + ": \"text\" must be a string or null");
      if (j.contains("video") && j["video"].is_string()) ex.videoPath = resolvePath(base, j["video"].get<std::string>());
      else if (j.contains("video") && !j["video"].is_null()) throwInvalidArg(where + ": \"video\" must be a path or null");
      if (j.contains("speaker") && j["speaker"].is_string()) ex.speaker = j["speaker"].get<std::string>();
      if (ex.speaker.empty()) ex.speaker = ex.id;
      if (j.contains("source") && j["source"].is_string()) ex.source = j["source"].get<std::string>();
      if (j.contains("split") && !j["split"].is_null()) {
        const std::string s = j["split"].is_string() ? j["split"].get<std::string>() : j["split"].dump();
        if (s != "train" && s != "val") throwInvalidArg(where + ": \"split\" must be \"train\", \"val\" or null, got " + s);
        ex.split = s;
      }
      if (j.contains("scores") && j["scores"].is_object()) {
        for (auto it = j["scores"].begin(); it != j["scores"].end(); ++it) {
          const json& v = it.value();
          double d = std::nan("");
          if (v.is_boolean()) d = v.get<bool>() ? 1.0 : 0.0;
          else if (v.is_number()) d = v.get<double>();
          else if (!v.is_null()) continue;  // strings, objects: not a metric
          ex.scores[it.key()] = d;
        }
      }
      if (!j.contains("label") || !j["label"].is_object()) throwInvalidArg(where + ": \"label\" is required for training");
      const json& lab = j["label"];
      const std::string g = lab.value("grade", std::string());
      auto gi = std::find(cfg.grades.begin(), cfg.grades.end(), g);
      if (gi == cfg.grades.end()) throwInvalidArg(where + ": label.grade \"" + g + "\" is not one of high, medium, low");
      ex.grade = int(gi - cfg.grades.begin());
      ex.flags.assign(cfg.flags.size(), 0.0f);
      if (lab.contains("flags") && lab["flags"].is_array()) {
        for (const auto& f : lab["flags"]) {
          const std::string name = f.is_string() ? f.get<std::string>() : f.dump();
          auto fi = std::find(cfg.flags.begin(), cfg.flags.end(), name);
          if (fi == cfg.flags.end()) throwInvalidArg(where + ": label.flags has unknown flag \"" + name + "\"");
          ex.flags[size_t(fi - cfg.flags.begin())] = 1.0f;
        }
      }
      if (lab.contains("truth") && lab["truth"].is_object() && lab["truth"].contains("snrDb") &&
          lab["truth"]["snrDb"].is_number())
        ex.snrDb = lab["truth"]["snrDb"].get<double>();
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throwInvalidArg(where + ": " + e.what());
    }
    if (!ids.insert(ex.id).second) throwInvalidArg(where + ": duplicate id \"" + ex.id + "\"");
    // WAV header -> length at the model's rate.
    {
      std::ifstream f(ex.audioPath, std::ios::binary);
      if (!f) throw Error(ErrorCode::NotFound, where + ": audio " + ex.audioPath + " not found");
      f.seekg(0, std::ios::end);
      const uint64_t size = uint64_t(f.tellg());
      f.seekg(0);
      std::vector<uint8_t> head(size_t(std::min<uint64_t>(size, 1 << 16)));
      f.read(reinterpret_cast<char*>(head.data()), std::streamsize(head.size()));
      try {
        const auto info = audio::parseWavHeader(head.data(), head.size(), size);
        ex.numSamples = int64_t(std::ceil(double(info.frames) * cfg.audio.sampleRate / info.sampleRate));
      } catch (const Error& e) {
        throw Error(e.code(), where + ": audio " + ex.audioPath + ": " + e.what());
      }
    }
    out.push_back(std::move(ex));
  }
  if (out.empty()) throwInvalidArg("manifest " + manifestPath + ": no examples");
  return out;
}

double speakerHashFraction(const std::string& speaker) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : speaker) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  // Mix the high bits down (FNV's low bits are weak for short strings).
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return double(h >> 11) / double(1ULL << 53);
}

SplitInfo assignSplits(std::vector<Example>& examples, double valFraction) {
  SplitInfo info;
  std::set<std::string> hashedSpeakers;
  bool anyVal = false;
  for (auto& e : examples) {
    if (e.split.empty()) {
      ++info.assignedByHash;
      hashedSpeakers.insert(e.speaker);
      e.split = speakerHashFraction(e.speaker) < valFraction ? "val" : "train";
    }
    anyVal = anyVal || e.split == "val";
  }
  if (!anyVal && valFraction > 0 && hashedSpeakers.size() >= 2) {
    std::string pick;
    double best = 2;
    for (const auto& s : hashedSpeakers) {
      const double f = speakerHashFraction(s);
      if (f < best) best = f, pick = s;
    }
    for (auto& e : examples)
      if (e.speaker == pick) e.split = "val";
  }
  std::set<std::string> tr, va;
  for (const auto& e : examples) {
    if (e.split == "val") ++info.valExamples, va.insert(e.speaker);
    else ++info.trainExamples, tr.insert(e.speaker);
  }
  info.trainSpeakers = int64_t(tr.size());
  info.valSpeakers = int64_t(va.size());
  return info;
}

std::vector<float> loadWavMono(const std::string& path, int rate) {
  const std::string bytes = readFile(path, "audio");
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  audio::WavInfo info;
  try {
    info = audio::parseWavHeader(p, bytes.size(), bytes.size());
  } catch (const Error& e) {
    throw Error(e.code(), "audio " + path + ": " + e.what());
  }
  std::vector<float> s(size_t(info.frames));
  const int64_t bad = audio::decodeWavFrames(info, p + info.dataOffset, info.frames, audio::kMixChannels, s.data());
  if (bad >= 0) throwDecode("audio " + path + ": sample " + std::to_string(bad) + " is not finite");
  if (int64_t(info.sampleRate) != rate) s = audio::resample(s.data(), s.size(), info.sampleRate, rate);
  return s;
}

at::Tensor loadVxv(const std::string& path) {
  const std::string bytes = readFile(path, "video");
  if (bytes.size() < 16) throwDecode("video " + path + ": too short for a .vxv header (16 bytes)");
  uint32_t h[4];
  for (int i = 0; i < 4; ++i) {
    const auto* b = reinterpret_cast<const uint8_t*>(bytes.data()) + 4 * i;
    h[i] = uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
  }
  if (h[0] != 0x56585156u) throwDecode("video " + path + ": not a .vxv file (bad magic)");
  const uint64_t F = h[1], H = h[2], W = h[3];
  if (H == 0 || W == 0 || H > 4096 || W > 4096) throwDecode("video " + path + ": bad frame size " + std::to_string(H) + "x" + std::to_string(W));
  if (bytes.size() - 16 < F * H * W)
    throwDecode("video " + path + ": header says " + std::to_string(F) + " frames of " + std::to_string(H) + "x" +
                std::to_string(W) + " but the file holds only " + std::to_string(bytes.size() - 16) + " bytes of frames");
  at::Tensor t = at::empty({int64_t(F), int64_t(H), int64_t(W)}, at::kByte);
  if (F) std::memcpy(t.data_ptr<uint8_t>(), bytes.data() + 16, F * H * W);
  return t;
}

void writeVxv(const std::string& path, const at::Tensor& frames) {
  at::Tensor f = frames.to(at::kByte).contiguous();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(ErrorCode::NotFound, "cannot write " + path);
  uint32_t h[4] = {0x56585156u, uint32_t(f.size(0)), uint32_t(f.size(1)), uint32_t(f.size(2))};
  for (uint32_t v : h) {
    const char b[4] = {char(v & 255), char((v >> 8) & 255), char((v >> 16) & 255), char((v >> 24) & 255)};
    out.write(b, 4);
  }
  out.write(reinterpret_cast<const char*>(f.data_ptr<uint8_t>()), std::streamsize(f.numel()));
}

}  // namespace voxqc::train
