#include "model/config.h"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace voxqc::model {

using nlohmann::json;

const char* toString(Fusion f) {
  switch (f) {
    case Fusion::Early: return "early";
    case Fusion::Late: return "late";
    case Fusion::Interactive: return "interactive";
  }
  return "?";
}

Fusion parseFusion(const std::string& s) {
  if (s == "early") return Fusion::Early;
  if (s == "late") return Fusion::Late;
  if (s == "interactive") return Fusion::Interactive;
  throwInvalidArg("config: fusion must be \"early\", \"late\" or \"interactive\", got \"" + s + "\"");
}

double MetricSpec::normalize(double v) const {
  if (!std::isfinite(v)) return std::nan("");
  double t = log10 ? std::log10(std::max(v, 0.0) + eps) : v;
  double x = (t - offset) / scale;
  return std::min(10.0, std::max(-10.0, x));
}

std::vector<MetricSpec> ModelConfig::defaultMetrics() {
  auto m = [](const char* n, double o, double s, bool lg = false, double eps = 1e-5) {
    MetricSpec r;
    r.name = n; r.offset = o; r.scale = s; r.log10 = lg; r.eps = eps;
    return r;
  };
  return {
      m("snrDb", 20, 15),
      m("activeLevelDbfs", -30, 15),
      m("speechSec", 3, 3),
      m("clippedFraction", -4, 1.5, true, 1e-5),
      m("maxDropoutMs", 1, 1, true, 1),
      m("repeatedSec", 0.5, 1),
      m("truncatedStart", 0.5, 0.5),
      m("truncatedEnd", 0.5, 0.5),
      m("hfEnergyAbove4k", -2.5, 1, true, 1e-5),
      m("leadingSilenceSec", 0.5, 1),
      m("trailingSilenceSec", 0.5, 1),
      m("maxPauseSec", 1, 1),
      m("textMatch", 0.7, 0.3),
      m("avOffsetMs", 0, 150),
      m("durationSec", 5, 5),
  };
}

std::vector<std::string> ModelConfig::defaultGrades() { return {"high", "medium", "low"}; }

std::vector<std::string> ModelConfig::defaultFlags() {
  return {"no_speech", "low_snr",  "noisy",        "clipping",   "dropout",             "repetition",
          "truncated", "too_quiet", "long_silence", "narrowband", "transcript_mismatch", "av_offset"};
}

double ModelConfig::audioTokenRate() const {
  return double(audio.sampleRate) / audio.hopLength / 4.0;
}

namespace {

template <typename T>
void requireRange(const char* field, T v, T lo, T hi) {
  if (!(v >= lo && v <= hi)) {
    std::ostringstream os;
    os << "config: " << field << " must be in [" << lo << ", " << hi << "], got " << v;
    throwInvalidArg(os.str());
  }
}

}  // namespace

void ModelConfig::validate() const {
  requireRange("dModel", dModel, 8, 4096);
  requireRange("heads", heads, 1, 64);
  if (dModel % heads != 0)
    throwInvalidArg("config: dModel (" + std::to_string(dModel) + ") must be a multiple of heads (" +
                    std::to_string(heads) + ")");
  requireRange("ffDim", ffDim, 1, 65536);
  requireRange("dropout", dropout, 0.0, 0.9);
  requireRange("fusionLayers", fusionLayers, fusion == Fusion::Early ? 1 : 0, 32);
  requireRange("audio.sampleRate", audio.sampleRate, 1000, 192000);
  requireRange("audio.nFft", audio.nFft, 16, 8192);
  requireRange("audio.winLength", audio.winLength, 1, audio.nFft);
  requireRange("audio.hopLength", audio.hopLength, 1, 8192);
  requireRange("audio.nMels", audio.nMels, 1, 512);
  if (!(audio.featScale > 0)) throwInvalidArg("config: audio.featScale must be > 0");
  requireRange("audio.layers", audio.layers, 0, 32);
  requireRange("text.maxBytes", text.maxBytes, 1, 1 << 20);
  requireRange("text.layers", text.layers, 0, 32);
  requireRange("video.fps", video.fps, 1.0, 1000.0);
  requireRange("video.height", video.height, 8, 1024);
  requireRange("video.width", video.width, 8, 1024);
  if (video.channels.empty() || video.channels.size() > 6)
    throwInvalidArg("config: video.channels must list 1 to 6 conv widths");
  for (int c : video.channels) requireRange("video.channels[i]", c, 1, 1024);
  requireRange("video.layers", video.layers, 0, 32);
  std::set<std::string> seen;
  for (const auto& m : metrics) {
    if (m.name.empty()) throwInvalidArg("config: metrics[i].name must not be empty");
    if (!seen.insert(m.name).second) throwInvalidArg("config: metric \"" + m.name + "\" is listed twice");
    if (!(m.scale > 0) || !std::isfinite(m.scale) || !std::isfinite(m.offset))
      throwInvalidArg("config: metric \"" + m.name + "\" needs a finite offset and a scale > 0");
    if (m.log10 && !(m.eps > 0)) throwInvalidArg("config: metric \"" + m.name + "\" (log10) needs eps > 0");
  }
  if (grades.size() != 3) throwInvalidArg("config: grades must list exactly 3 names (high, medium, low)");
  if (flags.empty() || flags.size() > 64) throwInvalidArg("config: flags must list 1 to 64 names");
  if (!(snr.scale > 0)) throwInvalidArg("config: snr.scale must be > 0");
}

namespace {

json toJ(const ModelConfig& c) {
  json j;
  j["format"] = "voxqc-grader";
  j["version"] = 1;
  j["fusion"] = toString(c.fusion);
  j["dModel"] = c.dModel;
  j["heads"] = c.heads;
  j["ffDim"] = c.ffDim;
  j["dropout"] = c.dropout;
  j["fusionLayers"] = c.fusionLayers;
  j["audio"] = {{"sampleRate", c.audio.sampleRate}, {"nFft", c.audio.nFft},
                {"winLength", c.audio.winLength},   {"hopLength", c.audio.hopLength},
                {"nMels", c.audio.nMels},           {"featOffset", c.audio.featOffset},
                {"featScale", c.audio.featScale},   {"layers", c.audio.layers}};
  j["text"] = {{"enabled", c.text.enabled}, {"maxBytes", c.text.maxBytes}, {"layers", c.text.layers}};
  j["video"] = {{"enabled", c.video.enabled}, {"fps", c.video.fps},         {"height", c.video.height},
                {"width", c.video.width},     {"channels", c.video.channels}, {"layers", c.video.layers}};
  json ms = json::array();
  for (const auto& m : c.metrics) {
    json e = {{"name", m.name}, {"offset", m.offset}, {"scale", m.scale},
              {"transform", m.log10 ? "log10" : "none"}};
    if (m.log10) e["eps"] = m.eps;
    ms.push_back(e);
  }
  j["metrics"] = ms;
  j["grades"] = c.grades;
  j["flags"] = c.flags;
  j["snr"] = {{"offset", c.snr.offset}, {"scale", c.snr.scale}};
  return j;
}

struct Reader {
  const std::string& what;
  void checkKeys(const json& j, const std::string& where, std::initializer_list<const char*> allowed) {
    if (!j.is_object()) throwInvalidArg(what + ": " + (where.empty() ? "the config" : where) + " must be an object");
    for (auto it = j.begin(); it != j.end(); ++it) {
      bool ok = false;
      for (const char* a : allowed) ok = ok || it.key() == a;
      if (!ok)
        throwInvalidArg(what + ": unknown field \"" + (where.empty() ? "" : where + ".") + it.key() + "\"");
    }
  }
  template <typename T>
  void get(const json& j, const char* key, const std::string& where, T& out) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    try {
      out = it->get<T>();
    } catch (const std::exception&) {
      throwInvalidArg(what + ": field \"" + (where.empty() ? "" : where + ".") + key + "\" has the wrong type (" +
                      it->dump() + ")");
    }
  }
};

}  // namespace

std::string ModelConfig::toJson(int indent) const { return toJ(*this).dump(indent); }

ModelConfig ModelConfig::fromJson(const std::string& text, const std::string& what) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    throwInvalidArg(what + ": not valid JSON (" + e.what() + ")");
  }
  Reader r{what};
  r.checkKeys(j, "", {"format", "version", "fusion", "dModel", "heads", "ffDim", "dropout", "fusionLayers",
                      "audio", "text", "video", "metrics", "grades", "flags", "snr"});
  ModelConfig c;
  if (j.contains("format") && j["format"] != "voxqc-grader")
    throwInvalidArg(what + ": format must be \"voxqc-grader\", got " + j["format"].dump());
  if (j.contains("version") && j["version"] != 1)
    throwInvalidArg(what + ": version " + j["version"].dump() + " is not supported (this build reads version 1)");
  std::string fusion = toString(c.fusion);
  r.get(j, "fusion", "", fusion);
  c.fusion = parseFusion(fusion);
  r.get(j, "dModel", "", c.dModel);
  r.get(j, "heads", "", c.heads);
  r.get(j, "ffDim", "", c.ffDim);
  r.get(j, "dropout", "", c.dropout);
  r.get(j, "fusionLayers", "", c.fusionLayers);
  if (j.contains("audio")) {
    const json& a = j["audio"];
    r.checkKeys(a, "audio", {"sampleRate", "nFft", "winLength", "hopLength", "nMels", "featOffset", "featScale", "layers"});
    r.get(a, "sampleRate", "audio", c.audio.sampleRate);
    r.get(a, "nFft", "audio", c.audio.nFft);
    r.get(a, "winLength", "audio", c.audio.winLength);
    r.get(a, "hopLength", "audio", c.audio.hopLength);
    r.get(a, "nMels", "audio", c.audio.nMels);
    r.get(a, "featOffset", "audio", c.audio.featOffset);
    r.get(a, "featScale", "audio", c.audio.featScale);
    r.get(a, "layers", "audio", c.audio.layers);
  }
  if (j.contains("text")) {
    const json& t = j["text"];
    r.checkKeys(t, "text", {"enabled", "maxBytes", "layers"});
    r.get(t, "enabled", "text", c.text.enabled);
    r.get(t, "maxBytes", "text", c.text.maxBytes);
    r.get(t, "layers", "text", c.text.layers);
  }
  if (j.contains("video")) {
    const json& v = j["video"];
    r.checkKeys(v, "video", {"enabled", "fps", "height", "width", "channels", "layers"});
    r.get(v, "enabled", "video", c.video.enabled);
    r.get(v, "fps", "video", c.video.fps);
    r.get(v, "height", "video", c.video.height);
    r.get(v, "width", "video", c.video.width);
    r.get(v, "channels", "video", c.video.channels);
    r.get(v, "layers", "video", c.video.layers);
  }
  if (j.contains("metrics")) {
    const json& ms = j["metrics"];
    if (!ms.is_array()) throwInvalidArg(what + ": metrics must be an array of {name, offset, scale}");
    c.metrics.clear();
    for (const auto& e : ms) {
      MetricSpec m;
      if (e.is_string()) {  // a bare name: offset 0, scale 1
        m.name = e.get<std::string>();
      } else {
        r.checkKeys(e, "metrics[i]", {"name", "offset", "scale", "transform", "eps"});
        r.get(e, "name", "metrics[i]", m.name);
        r.get(e, "offset", "metrics[i]", m.offset);
        r.get(e, "scale", "metrics[i]", m.scale);
        std::string tr = "none";
        r.get(e, "transform", "metrics[i]", tr);
        if (tr != "none" && tr != "log10")
          throwInvalidArg(what + ": metric transform must be \"none\" or \"log10\", got \"" + tr + "\"");
        m.log10 = tr == "log10";
        r.get(e, "eps", "metrics[i]", m.eps);
      }
      c.metrics.push_back(m);
    }
  }
  r.get(j, "grades", "", c.grades);
  r.get(j, "flags", "", c.flags);
  if (j.contains("snr")) {
    r.checkKeys(j["snr"], "snr", {"offset", "scale"});
    r.get(j["snr"], "offset", "snr", c.snr.offset);
    r.get(j["snr"], "scale", "snr", c.snr.scale);
  }
  try {
    c.validate();
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.rfind("config: ", 0) == 0) msg = msg.substr(8);
    throwInvalidArg(what + ": " + msg);
  }
  return c;
}

ModelConfig ModelConfig::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::NotFound, "model config " + path + ": cannot open the file");
  std::stringstream ss;
  ss << in.rdbuf();
  return fromJson(ss.str(), path);
}

void ModelConfig::save(const std::string& path) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(ErrorCode::NotFound, "cannot write model config " + path);
  out << toJson(2) << "\n";
  if (!out) throw Error(ErrorCode::Native, "error writing model config " + path);
}

}  // namespace voxqc::model
