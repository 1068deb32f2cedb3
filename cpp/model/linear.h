// Linear layer for the grader. Debian's libtorch 1.13 does its matrix products with the reference
// BLAS (BLAS_INFO=generic, ~4 GFLOP/s on one core), while its oneDNN (MKL-DNN) GEMM is 10-50x
// faster; so on the CPU (float32, libtorch built with MKL-DNN) linear() computes y = x W^T + b
// with at::mkldnn_linear, forward and backward (a custom autograd function: dX = dY W,
// dW = dY^T X, db = sum dY, each again a oneDNN GEMM). Elsewhere it is at::linear.
// Parameters are named "weight" [out, in] and "bias" [out], as torch::nn::Linear's.
#pragma once

#include <torch/torch.h>

namespace voxqc::model {

at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

// Row count linear() pads an inference product to on the oneDNN path: 32 at least, then 8 sizes
// per octave (m rounded up to a multiple of 2^floor(log2 m) / 8).
int64_t paddedRows(int64_t m);

// Whether linear() takes the oneDNN path for CPU float32 tensors in this build.
bool linearUsesOneDnn();
// Process-wide switch (tests, benchmarks): false forces at::linear.
void setLinearOneDnn(bool enabled);

class FastLinearImpl : public torch::nn::Module {
 public:
  FastLinearImpl(int64_t in, int64_t out);
  at::Tensor forward(const at::Tensor& x) { return linear(x, weight, bias); }
  at::Tensor weight, bias;
};
TORCH_MODULE(FastLinear);

}  // namespace voxqc::model
