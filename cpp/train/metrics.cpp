#include "train/metrics.h"

#include <cmath>

namespace voxqc::train {

MetricAccumulator::MetricAccumulator(int numGrades, int numFlags)
    : G_(numGrades), NF_(numFlags), conf_(size_t(numGrades), std::vector<int64_t>(size_t(numGrades), 0)),
      tp_(size_t(numFlags), 0), fp_(size_t(numFlags), 0), fn_(size_t(numFlags), 0) {}

void MetricAccumulator::add(int truthGrade, int predGrade, const std::vector<float>& truthFlags,
                            const float* flagProbs, double snrTruth, double snrPred, double loss) {
  ++n_;
  lossSum_ += loss;
  if (truthGrade >= 0 && truthGrade < G_ && predGrade >= 0 && predGrade < G_) ++conf_[size_t(truthGrade)][size_t(predGrade)];
  for (int f = 0; f < NF_; ++f) {
    const bool t = truthFlags[size_t(f)] > 0.5f, p = flagProbs[f] >= 0.5f;
    if (t && p) ++tp_[size_t(f)];
    else if (!t && p) ++fp_[size_t(f)];
    else if (t && !p) ++fn_[size_t(f)];
  }
  if (std::isfinite(snrTruth)) {
    snrErr_ += std::fabs(snrTruth - snrPred);
    ++snrN_;
  }
}

namespace {
double f1(int64_t tp, int64_t fp, int64_t fn) {
  if (tp + fp + fn == 0) return std::nan("");
  return 2.0 * double(tp) / double(2 * tp + fp + fn);
}
nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
}  // namespace

EvalMetrics MetricAccumulator::finish() const {
  EvalMetrics m;
  m.n = n_;
  m.loss = n_ ? lossSum_ / double(n_) : std::nan("");
  m.confusion = conf_;
  int64_t correct = 0;
  double f1Sum = 0;
  int f1N = 0;
  m.gradeF1.resize(size_t(G_));
  for (int g = 0; g < G_; ++g) {
    correct += conf_[size_t(g)][size_t(g)];
    int64_t tp = conf_[size_t(g)][size_t(g)], fp = 0, fn = 0;
    for (int o = 0; o < G_; ++o) {
      if (o == g) continue;
      fp += conf_[size_t(o)][size_t(g)];
      fn += conf_[size_t(g)][size_t(o)];
    }
    m.gradeF1[size_t(g)] = f1(tp, fp, fn);
    if (std::isfinite(m.gradeF1[size_t(g)])) f1Sum += m.gradeF1[size_t(g)], ++f1N;
  }
  m.accuracy = n_ ? double(correct) / double(n_) : std::nan("");
  m.macroF1 = f1N ? f1Sum / f1N : std::nan("");
  m.flagF1.resize(size_t(NF_));
  m.flagSupport.resize(size_t(NF_));
  double ff = 0;
  int ffN = 0;
  for (int f = 0; f < NF_; ++f) {
    m.flagF1[size_t(f)] = f1(tp_[size_t(f)], fp_[size_t(f)], fn_[size_t(f)]);
    m.flagSupport[size_t(f)] = tp_[size_t(f)] + fn_[size_t(f)];
    if (std::isfinite(m.flagF1[size_t(f)])) ff += m.flagF1[size_t(f)], ++ffN;
  }
  m.flagMacroF1 = ffN ? ff / ffN : std::nan("");
  m.snrCount = snrN_;
  m.snrMae = snrN_ ? snrErr_ / double(snrN_) : std::nan("");
  return m;
}

nlohmann::json EvalMetrics::toJson(const std::vector<std::string>& grades, const std::vector<std::string>& flags) const {
  nlohmann::json j;
  j["n"] = n;
  j["loss"] = num(loss);
  j["accuracy"] = num(accuracy);
  j["macroF1"] = num(macroF1);
  nlohmann::json gf = nlohmann::json::object();
  for (size_t g = 0; g < grades.size() && g < gradeF1.size(); ++g) gf[grades[g]] = num(gradeF1[g]);
  j["gradeF1"] = gf;
  j["confusion"] = {{"labels", grades}, {"rowsTruthColsPredicted", confusion}};
  nlohmann::json ff = nlohmann::json::object();
  for (size_t f = 0; f < flags.size() && f < flagF1.size(); ++f)
    ff[flags[f]] = {{"f1", num(flagF1[f])}, {"support", flagSupport[f]}};
  j["flags"] = ff;
  j["flagMacroF1"] = num(flagMacroF1);
  j["snrMaeDb"] = num(snrMae);
  j["snrCount"] = snrCount;
  return j;
}

}  // namespace voxqc::train
