// Fuzz targets for every native entry point of the core that takes bytes or arrays: the WAV
// parser and decoder, the resampler, the feature kernels, the signal metrics and the defect
// planters. Each target takes raw bytes (as libFuzzer hands them) and interprets them: the
// contract is that every input ends in a result or a voxqc::Error, never a crash, a hang, an
// abort or another exception type.
//
// The same targets run three ways:
//   - libFuzzer (cpp/fuzz/libfuzzer_main.cpp, built with -DVOXQC_FUZZ=ON and clang);
//   - the plain-C++ driver voxqc_fuzz (cpp/fuzz/driver.cpp): N seeded cases per target, each a
//     structured input from generate() with random mutations on top; no libFuzzer needed;
//   - a short seeded slice inside the native tests (cpp/tests/test_fuzz.cpp), which also replays
//     the regression inputs under test/fixtures/fuzz/<target>/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace voxqc::fuzz {

struct Target {
  const char* name;
  // Runs one input. Throws voxqc::Error for an input rejected with a clear error; any other
  // exception, a crash or a hang is a finding.
  void (*run)(const uint8_t* data, size_t size);
  // A structured input for this target from a seed (valid shapes, boundary values, lying sizes,
  // NaN/Inf/denormal samples), already mutated at random for about half of the seeds.
  std::vector<uint8_t> (*generate)(uint64_t seed);
};

const std::vector<Target>& targets();
const Target* findTarget(const std::string& name);

enum class Outcome { Ok, Rejected, Unexpected };

// Runs one case and classifies it; `what` receives the error message (Rejected/Unexpected).
Outcome runCase(const Target& t, const uint8_t* data, size_t size, std::string* what = nullptr);

// Largest output a target lets a case allocate (floats); larger requests are only sized, not run.
constexpr size_t kMaxCaseFloats = size_t(1) << 22;

}  // namespace voxqc::fuzz
