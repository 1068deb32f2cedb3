// Evaluation metrics of the grader on a labelled set.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace voxqc::train {

struct EvalMetrics {
  int64_t n = 0;                       // examples evaluated
  double loss = 0;                     // the training objective (same weights) on this set
  double accuracy = 0;                 // grade accuracy
  double macroF1 = 0;                  // mean F1 over the grades present in truth or prediction
  std::vector<double> gradeF1;         // per grade (config.grades order); NaN when undefined
  std::vector<std::vector<int64_t>> confusion;  // [truth][predicted]
  std::vector<double> flagF1;          // per flag at p >= 0.5; NaN when no positives in truth or prediction
  std::vector<int64_t> flagSupport;    // positives in truth per flag
  double flagMacroF1 = 0;              // mean over the defined flagF1
  double snrMae = 0;                   // dB, over examples with a known SNR (NaN when none)
  int64_t snrCount = 0;
  nlohmann::json toJson(const std::vector<std::string>& grades, const std::vector<std::string>& flags) const;
};

// Accumulates predictions; finish() computes the metrics.
class MetricAccumulator {
 public:
  MetricAccumulator(int numGrades, int numFlags);
  void add(int truthGrade, int predGrade, const std::vector<float>& truthFlags, const float* flagProbs,
           double snrTruth, double snrPred, double loss);
  EvalMetrics finish() const;

 private:
  int G_, NF_;
  std::vector<std::vector<int64_t>> conf_;
  std::vector<int64_t> tp_, fp_, fn_;
  double lossSum_ = 0, snrErr_ = 0;
  int64_t n_ = 0, snrN_ = 0;
};

}  // namespace voxqc::train
