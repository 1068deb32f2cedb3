#include "core/runtime.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <sstream>
#include <thread>

#ifndef VOXQC_WITH_CUDA
#define VOXQC_WITH_CUDA 0
#endif

namespace voxqc {

namespace {
thread_local int tlsThreads = -1;
}

void useIntraOpThreads(int threads) {
  if (tlsThreads < 0) {
    // First libtorch use on this thread: let libtorch set up its per-thread state first, so a
    // later lazy initialisation cannot override the count we set below.
    at::init_num_threads();
    tlsThreads = at::get_num_threads();
  }
  if (threads <= 0 || threads == tlsThreads) return;
  at::set_num_threads(threads);
  tlsThreads = threads;
}

int intraOpThreads() { return tlsThreads < 0 ? at::get_num_threads() : tlsThreads; }

int hardwareThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

RuntimeInfo runtimeInfo() {
  RuntimeInfo info;
  std::ostringstream v;
  v << TORCH_VERSION_MAJOR << "." << TORCH_VERSION_MINOR << "." << TORCH_VERSION_PATCH;
  info.torchVersion = v.str();
  info.cudaCompiled = VOXQC_WITH_CUDA != 0;
  info.cudaAvailable = info.cudaCompiled && torch::cuda::is_available();
  std::string parallel = at::get_parallel_info();
  std::istringstream lines(parallel);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("ATen parallel backend") != std::string::npos) {
      info.parallelInfo = line;
      break;
    }
  }
  return info;
}

}  // namespace voxqc
