// CI's short seeded slice of the fuzz campaign (the full one: npm run fuzz, 10,000+ cases per
// target) and the replay of every regression input kept under test/fixtures/fuzz/<target>/.
// Each case must end in a result or a voxqc::Error; a crash would end this executable.
#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz/targets.h"
#include "harness.h"

namespace fs = std::filesystem;
using namespace voxqc::fuzz;

namespace {

void seededSlice(const char* name, uint64_t cases) {
  const Target* t = findTarget(name);
  CHECK(t != nullptr);
  uint64_t ok = 0, rejected = 0;
  for (uint64_t k = 0; k < cases; ++k) {
    const uint64_t seed = 7 * 1000003ull + k;  // fixed: the same slice every run
    std::vector<uint8_t> input = t->generate(seed);
    std::string what;
    Outcome o = runCase(*t, input.data(), input.size(), &what);
    if (o == Outcome::Unexpected) VOXQC_FAIL(name << " seed " << seed << ": unexpected exception: " << what);
    (o == Outcome::Ok ? ok : rejected)++;
  }
  // Both kinds of ending are reached: the generator makes valid and invalid inputs.
  CHECK(ok > 0);
  CHECK(rejected > 0);
  std::cout << "        " << name << ": " << cases << " cases, " << ok << " results, " << rejected << " errors\n";
}

}  // namespace

VOXQC_TEST(fuzz_slice_wav) { seededSlice("wav", 400); }
VOXQC_TEST(fuzz_slice_wav_info) { seededSlice("wav_info", 400); }
VOXQC_TEST(fuzz_slice_resample) { seededSlice("resample", 150); }
VOXQC_TEST(fuzz_slice_features) { seededSlice("features", 200); }
VOXQC_TEST(fuzz_slice_metrics) { seededSlice("metrics", 80); }
VOXQC_TEST(fuzz_slice_simulate) { seededSlice("simulate", 150); }

VOXQC_TEST(fuzz_regression_inputs) {
  const fs::path root = fs::path(voxqc::test::repoDir()) / "test" / "fixtures" / "fuzz";
  if (!fs::is_directory(root)) VOXQC_SKIP("no test/fixtures/fuzz");
  size_t replayed = 0;
  for (const auto& dir : fs::directory_iterator(root)) {
    if (!dir.is_directory()) continue;
    const Target* t = findTarget(dir.path().filename().string());
    if (!t) continue;  // folders of the TypeScript-side targets
    for (const auto& f : fs::directory_iterator(dir.path())) {
      if (!f.is_regular_file()) continue;
      std::ifstream in(f.path(), std::ios::binary);
      std::vector<uint8_t> input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::string what;
      if (runCase(*t, input.data(), input.size(), &what) == Outcome::Unexpected) {
        VOXQC_FAIL(f.path().string() << ": unexpected exception: " << what);
      }
      ++replayed;
    }
  }
  CHECK(replayed > 0);
  std::cout << "        replayed " << replayed << " regression inputs\n";
}
