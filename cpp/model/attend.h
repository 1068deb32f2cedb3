// The attention primitive of the grader's layers: multi-head scaled dot-product attention on
// [B, H, L, D] tensors with a key-padding mask [B, Lk] (bool, true = padded key, ignored); a query
// row whose keys are all padded gives 0 (no NaN), forward and backward. Same convention as
// voxqc::attention::fusedAttention (cpp/attention/attention.h), which it uses on the CPU.
#pragma once

#include <torch/torch.h>

namespace voxqc::model {

enum class AttentionBackend {
  Fused,      // voxqc::attention::fusedAttention (CPU float32/float64); the default
  Reference,  // plain matmul-softmax-matmul (any device); used automatically off the CPU
};

// Process-wide choice (tests compare both). Thread-safe (atomic).
void setAttentionBackend(AttentionBackend backend);
AttentionBackend attentionBackend();
// True when this build calls the fused op (see the switch point in attend.cpp).
bool fusedAttentionCompiled();

// q [B,H,Lq,D], k/v [B,H,Lk,D]; keyPadding [B,Lk] bool or undefined. scale = 1/sqrt(D).
at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& keyPadding);

// The reference formulation (always available).
at::Tensor referenceAttend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                           const at::Tensor& keyPadding);

}  // namespace voxqc::model
