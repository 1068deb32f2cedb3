// at::Tensor glue and autograd Function for the CUDA attention kernels. Only in CUDA builds.
#if VOXQC_WITH_CUDA
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"
#include "cuda/cuda.h"
#include "cuda/kernels.h"

namespace voxqc::cuda {
namespace {

void checkCuda(int code, const char* what) {
  if (code != 0) throw Error(ErrorCode::Native, std::string(what) + ": CUDA error: " + errorString(code));
}

int dtypeOf(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: return kAttnF32;
    case at::kHalf: return kAttnF16;
    case at::kBFloat16: return kAttnBF16;
    default: throwInvalidArg("fusedAttention (cuda): q, k, v must be float32, float16 or bfloat16");
  }
}

std::string shapeStr(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

void validate(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const c10::optional<at::Tensor>& mask,
              double scale) {
  requireAvailable("fusedAttention");
  if (!q.defined() || !k.defined() || !v.defined()) throwInvalidArg("fusedAttention (cuda): q, k, v must be defined");
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4)
    throwInvalidArg("fusedAttention (cuda): q, k, v must be [B, H, L, D]; got " + shapeStr(q) + ", " + shapeStr(k) +
                    ", " + shapeStr(v));
  if (!q.is_cuda() || k.device() != q.device() || v.device() != q.device())
    throwInvalidArg("fusedAttention (cuda): q, k, v must be on one CUDA device");
  if (k.scalar_type() != q.scalar_type() || v.scalar_type() != q.scalar_type())
    throwInvalidArg("fusedAttention (cuda): q, k, v must have one dtype");
  dtypeOf(q);
  const int64_t B = q.size(0), H = q.size(1), D = q.size(3);
  if (k.size(0) != B || k.size(1) != H || k.size(3) != D || v.sizes() != k.sizes())
    throwInvalidArg("fusedAttention (cuda): shapes do not match: q " + shapeStr(q) + ", k " + shapeStr(k) + ", v " +
                    shapeStr(v));
  if (D < 1 || D > 64)
    throw Error(ErrorCode::Unsupported, "fusedAttention (cuda): head size " + std::to_string(D) +
                                            " is outside 1..64 (use device 'cpu')");
  if (q.scalar_type() != at::kFloat && D % 8 != 0)
    throw Error(ErrorCode::Unsupported, "fusedAttention (cuda): 16-bit inputs need a head size that is a multiple of 8");
  if (B > 65535 || H > 65535 || q.size(2) > std::numeric_limits<int>::max() / 2 ||
      k.size(2) > std::numeric_limits<int>::max() / 2)
    throwInvalidArg("fusedAttention (cuda): sizes too large");
  if (mask && mask->defined()) {
    if (mask->scalar_type() != at::kBool || mask->dim() != 2 || mask->size(0) != B || mask->size(1) != k.size(2))
      throwInvalidArg("fusedAttention (cuda): keyPadding must be a bool [B, Lk] = [" + std::to_string(B) + ", " +
                      std::to_string(k.size(2)) + "] tensor; got " + shapeStr(*mask));
  }
  if (!(scale >= 0) || !std::isfinite(scale)) throwInvalidArg("fusedAttention (cuda): scale must be >= 0 (0 = 1/sqrt(D))");
}

AttnParams params(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask, double scale,
                  bool causal) {
  AttnParams p;
  p.B = static_cast<int>(q.size(0));
  p.H = static_cast<int>(q.size(1));
  p.Lq = static_cast<int>(q.size(2));
  p.Lk = static_cast<int>(k.size(2));
  p.D = static_cast<int>(q.size(3));
  p.scale = static_cast<float>(scale > 0 ? scale : 1.0 / std::sqrt(static_cast<double>(p.D)));
  p.causal = causal ? 1 : 0;
  p.dtype = dtypeOf(q);
  p.q = q.data_ptr();
  p.k = k.data_ptr();
  p.v = v.data_ptr();
  p.keyPad = mask.defined() ? reinterpret_cast<const uint8_t*>(mask.data_ptr<bool>()) : nullptr;
  return p;
}

at::Tensor maskOn(const c10::optional<at::Tensor>& mask, const at::Device& dev) {
  if (!mask || !mask->defined()) return at::Tensor();
  return mask->to(dev).contiguous();
}

class CudaAttentionFunction : public torch::autograd::Function<CudaAttentionFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k,
                            const at::Tensor& v, const c10::optional<at::Tensor>& keyPadding, double scale,
                            bool causal) {
    auto [out, lse] = fusedAttentionForward(q, k, v, keyPadding, scale, causal, false);
    ctx->save_for_backward({q, k, v, out, lse});
    if (keyPadding && keyPadding->defined()) ctx->saved_data["keyPadding"] = *keyPadding;
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["causal"] = causal;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list gradOutputs) {
    if (at::GradMode::is_enabled())
      throw Error(ErrorCode::Unsupported,
                  "fusedAttention (cuda): double backward (create_graph=true) is not supported; use referenceAttention");
    auto saved = ctx->get_saved_variables();
    c10::optional<at::Tensor> mask;
    if (ctx->saved_data.count("keyPadding")) mask = ctx->saved_data["keyPadding"].toTensor();
    const double scale = ctx->saved_data["scale"].toDouble();
    const bool causal = ctx->saved_data["causal"].toBool();
    const at::Tensor& grad = gradOutputs[0];
    if (!grad.defined()) return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    auto [dq, dk, dv] = fusedAttentionBackward(saved[0], saved[1], saved[2], mask, scale, causal, saved[3], saved[4], grad);
    return {dq, dk, dv, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

std::tuple<at::Tensor, at::Tensor> fusedAttentionForward(const at::Tensor& qIn, const at::Tensor& kIn,
                                                         const at::Tensor& vIn,
                                                         const c10::optional<at::Tensor>& keyPadding, double scale,
                                                         bool causal, bool forceSimt) {
  validate(qIn, kIn, vIn, keyPadding, scale);
  c10::cuda::CUDAGuard guard(qIn.device());
  at::NoGradGuard noGrad;
  const at::Tensor q = qIn.contiguous(), k = kIn.contiguous(), v = vIn.contiguous();
  const at::Tensor mask = maskOn(keyPadding, q.device());
  at::Tensor out = at::empty(q.sizes(), q.options());
  at::Tensor lse = at::empty({q.size(0), q.size(1), q.size(2)}, q.options().dtype(at::kFloat));
  if (out.numel() == 0) return {out, lse};
  at::Tensor kvLen = at::empty({q.size(0)}, q.options().dtype(at::kInt));
  AttnParams p = params(q, k, v, mask, scale, causal);
  p.out = out.data_ptr();
  p.lse = lse.data_ptr<float>();
  p.kvLen = kvLen.data_ptr<int>();
  p.forceSimt = forceSimt ? 1 : 0;
  checkCuda(attentionForward(p, c10::cuda::getCurrentCUDAStream().stream()), "fusedAttention forward");
  return {out, lse};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> fusedAttentionBackward(
    const at::Tensor& qIn, const at::Tensor& kIn, const at::Tensor& vIn,
    const c10::optional<at::Tensor>& keyPadding, double scale, bool causal, const at::Tensor& outIn,
    const at::Tensor& lseIn, const at::Tensor& gradOut) {
  validate(qIn, kIn, vIn, keyPadding, scale);
  c10::cuda::CUDAGuard guard(qIn.device());
  at::NoGradGuard noGrad;
  const at::Tensor q = qIn.contiguous(), k = kIn.contiguous(), v = vIn.contiguous();
  const at::Tensor out = outIn.to(q.scalar_type()).contiguous();
  const at::Tensor lse = lseIn.to(at::kFloat).contiguous();
  const at::Tensor g = gradOut.to(q.device(), q.scalar_type()).contiguous();
  if (out.sizes() != q.sizes() || g.sizes() != q.sizes() || lse.dim() != 3 || lse.size(2) != q.size(2))
    throwInvalidArg("fusedAttentionBackward (cuda): out, lse or gradOut has the wrong shape");
  const at::Tensor mask = maskOn(keyPadding, q.device());
  at::Tensor dq = at::empty(q.sizes(), q.options());
  at::Tensor dk = at::empty(k.sizes(), k.options());
  at::Tensor dv = at::empty(v.sizes(), v.options());
  if (q.numel() == 0 && k.numel() == 0) return {dq, dk, dv};
  if (q.size(0) == 0 || q.size(1) == 0) return {dq, dk, dv};
  at::Tensor kvLen = at::empty({q.size(0)}, q.options().dtype(at::kInt));
  at::Tensor delta = at::empty({q.size(0), q.size(1), q.size(2)}, q.options().dtype(at::kFloat));
  AttnBwdParams bp;
  bp.fwd = params(q, k, v, mask, scale, causal);
  bp.fwd.out = const_cast<void*>(out.data_ptr());
  bp.fwd.lse = const_cast<float*>(lse.data_ptr<float>());
  bp.fwd.kvLen = kvLen.data_ptr<int>();
  bp.dout = g.data_ptr();
  bp.delta = delta.data_ptr<float>();
  bp.dq = dq.data_ptr();
  bp.dk = dk.data_ptr();
  bp.dv = dv.data_ptr();
  checkCuda(attentionBackward(bp, c10::cuda::getCurrentCUDAStream().stream()), "fusedAttention backward");
  return {dq, dk, dv};
}

at::Tensor fusedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const c10::optional<at::Tensor>& keyPadding, double scale, bool causal) {
  validate(q, k, v, keyPadding, scale);
  return CudaAttentionFunction::apply(q, k, v, keyPadding, scale, causal);
}

}  // namespace voxqc::cuda
#endif  // VOXQC_WITH_CUDA
