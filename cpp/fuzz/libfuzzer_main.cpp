// libFuzzer entry point for one target of targets.h, chosen at compile time with
// -DVOXQC_FUZZ_TARGET_NAME="wav" (CMake builds voxqc_fuzz_<target> for each with -DVOXQC_FUZZ=ON).
// An input that ends in anything but a result or a voxqc::Error aborts, so libFuzzer keeps it.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/targets.h"

#ifndef VOXQC_FUZZ_TARGET_NAME
#error "define VOXQC_FUZZ_TARGET_NAME"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const voxqc::fuzz::Target* target = voxqc::fuzz::findTarget(VOXQC_FUZZ_TARGET_NAME);
  if (!target) std::abort();
  std::string what;
  if (voxqc::fuzz::runCase(*target, data, size, &what) == voxqc::fuzz::Outcome::Unexpected) {
    std::fprintf(stderr, "voxqc fuzz target %s: unexpected exception: %s\n", target->name, what.c_str());
    std::abort();
  }
  return 0;
}
