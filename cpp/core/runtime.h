// Process-wide runtime facts and thread control for the core.
#pragma once

#include <string>

namespace voxqc {

// Sets libtorch's intra-op thread count for work issued from the calling thread. OpenMP keeps
// the count per thread and every change rebuilds the pool, so this only calls into libtorch
// when the calling thread's count actually changes. threads <= 0 leaves the count as it is.
void useIntraOpThreads(int threads);

// The count the calling thread would use now.
int intraOpThreads();

// Hardware threads available to this process.
int hardwareThreads();

struct RuntimeInfo {
  std::string torchVersion;    // e.g. "1.13.1"
  bool cudaCompiled = false;   // CUDA kernels were compiled into this build
  bool cudaAvailable = false;  // and a CUDA device is usable now
  std::string parallelInfo;    // libtorch's at::get_parallel_info(), first line
};

RuntimeInfo runtimeInfo();

}  // namespace voxqc
