#include "model/model.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <deque>
#include <set>
#include <sstream>

#include "core/error.h"
#include "model/attend.h"
#include "model/linear.h"

namespace voxqc::model {

namespace {

using torch::nn::Conv1d;
using torch::nn::Conv1dOptions;
using torch::nn::Conv2d;
using torch::nn::Conv2dOptions;
using torch::nn::Embedding;
using torch::nn::LayerNorm;
using torch::nn::LayerNormOptions;
using Linear = FastLinear;
using torch::nn::ModuleList;

// Sinusoidal position encoding of (fractional) positions pos [L] -> [L, d].
at::Tensor sinusoid(const at::Tensor& pos, int64_t d) {
  const int64_t half = d / 2;
  at::Tensor i = torch::arange(half, pos.options());
  at::Tensor freq = torch::exp(i * (-std::log(10000.0) * 2.0 / double(d)));
  at::Tensor ang = pos.unsqueeze(1) * freq.unsqueeze(0);
  at::Tensor pe = torch::cat({torch::sin(ang), torch::cos(ang)}, 1);
  if (d % 2) pe = torch::cat({pe, torch::zeros({pos.size(0), 1}, pos.options())}, 1);
  return pe;
}

// [B, L] bool, true where position >= len (padded).
at::Tensor lengthMask(const at::Tensor& len, int64_t L) {
  return torch::arange(L, len.options()).unsqueeze(0) >= len.unsqueeze(1);
}

at::Tensor act(const at::Tensor& x) { return torch::gelu(x); }

struct MhaImpl : torch::nn::Module {
  MhaImpl(int64_t d, int64_t h) : d(d), h(h) {
    q = register_module("q", Linear(d, d));
    kv = register_module("kv", Linear(d, 2 * d));
    o = register_module("o", Linear(d, d));
  }
  at::Tensor forward(const at::Tensor& x, const at::Tensor& mem, const at::Tensor& pad) {
    const int64_t B = x.size(0), Lq = x.size(1), Lk = mem.size(1), dh = d / h;
    at::Tensor Q = q(x).view({B, Lq, h, dh}).transpose(1, 2);
    at::Tensor KV = kv(mem).view({B, Lk, 2, h, dh});
    at::Tensor K = KV.select(2, 0).transpose(1, 2);
    at::Tensor V = KV.select(2, 1).transpose(1, 2);
    at::Tensor out = attend(Q, K, V, pad);  // [B, h, Lq, dh]
    return o(out.transpose(1, 2).reshape({B, Lq, d}));
  }
  int64_t d, h;
  Linear q{nullptr}, kv{nullptr}, o{nullptr};
};
TORCH_MODULE(Mha);

struct FfnImpl : torch::nn::Module {
  FfnImpl(int64_t d, int64_t ff, double p) : p(p) {
    ln = register_module("ln", LayerNorm(LayerNormOptions({d})));
    l1 = register_module("l1", Linear(d, ff));
    l2 = register_module("l2", Linear(ff, d));
  }
  at::Tensor forward(const at::Tensor& x) {  // residual branch only
    at::Tensor y = torch::dropout(act(l1(ln(x))), p, is_training());
    return torch::dropout(l2(y), p, is_training());
  }
  double p;
  LayerNorm ln{nullptr};
  Linear l1{nullptr}, l2{nullptr};
};
TORCH_MODULE(Ffn);

// Pre-LN transformer encoder layer.
struct EncoderLayerImpl : torch::nn::Module {
  EncoderLayerImpl(int64_t d, int64_t h, int64_t ff, double p) : p(p) {
    ln = register_module("ln", LayerNorm(LayerNormOptions({d})));
    attn = register_module("attn", Mha(d, h));
    ffn = register_module("ffn", Ffn(d, ff, p));
  }
  at::Tensor forward(at::Tensor x, const at::Tensor& pad) {
    at::Tensor y = ln(x);
    x = x + torch::dropout(attn(y, y, pad), p, is_training());
    return x + ffn(x);
  }
  double p;
  LayerNorm ln{nullptr};
  Mha attn{nullptr};
  Ffn ffn{nullptr};
};
TORCH_MODULE(EncoderLayer);

// Cross-attention residual branch: x + present * attn(LN(x), LN(mem)).
struct CrossLayerImpl : torch::nn::Module {
  CrossLayerImpl(int64_t d, int64_t h, double p) : p(p) {
    lnq = register_module("lnq", LayerNorm(LayerNormOptions({d})));
    lnkv = register_module("lnkv", LayerNorm(LayerNormOptions({d})));
    attn = register_module("attn", Mha(d, h));
  }
  at::Tensor forward(const at::Tensor& x, const at::Tensor& mem, const at::Tensor& memPad, const at::Tensor& present) {
    at::Tensor y = attn(lnq(x), lnkv(mem), memPad);
    y = torch::dropout(y, p, is_training());
    return x + y * present.to(x.scalar_type()).view({-1, 1, 1});
  }
  double p;
  LayerNorm lnq{nullptr}, lnkv{nullptr};
  Mha attn{nullptr};
};
TORCH_MODULE(CrossLayer);

// Attention pooling: softmax over the unpadded tokens of a learned score; all-padded rows -> 0.
struct AttnPoolImpl : torch::nn::Module {
  explicit AttnPoolImpl(int64_t d) { score = register_module("score", Linear(d, 1)); }
  at::Tensor forward(const at::Tensor& x, const at::Tensor& pad) {  // x [B,L,d], pad [B,L]
    at::Tensor s = score(x).squeeze(-1);
    at::Tensor empty = pad.all(-1, true);
    s = s.masked_fill(pad, -std::numeric_limits<float>::infinity()).masked_fill(empty, 0.0);
    at::Tensor w = torch::softmax(s, -1).masked_fill(pad, 0.0);
    return (w.unsqueeze(-1) * x).sum(1);
  }
  Linear score{nullptr};
};
TORCH_MODULE(AttnPool);

struct Stack {
  std::vector<EncoderLayer> layers;
  at::Tensor run(at::Tensor x, const at::Tensor& pad) {
    for (auto& l : layers) x = l(x, pad);
    return x;
  }
};

Stack makeStack(torch::nn::Module& parent, const std::string& name, int n, const ModelConfig& c) {
  Stack s;
  auto list = parent.register_module(name, ModuleList());
  for (int i = 0; i < n; ++i) {
    EncoderLayer l(c.dModel, c.heads, c.ffDim, c.dropout);
    list->push_back(l);
    s.layers.push_back(l);
  }
  return s;
}

struct InteractiveBlockImpl : torch::nn::Module {
  InteractiveBlockImpl(const ModelConfig& c) {
    selfA = register_module("selfA", EncoderLayer(c.dModel, c.heads, c.ffDim, c.dropout));
    if (c.video.enabled) {
      selfV = register_module("selfV", EncoderLayer(c.dModel, c.heads, c.ffDim, c.dropout));
      crossV = register_module("crossV", CrossLayer(c.dModel, c.heads, c.dropout));
    }
    if (c.text.enabled) {
      selfT = register_module("selfT", EncoderLayer(c.dModel, c.heads, c.ffDim, c.dropout));
      crossT = register_module("crossT", CrossLayer(c.dModel, c.heads, c.dropout));
    }
    if (!c.metrics.empty()) {
      selfM = register_module("selfM", EncoderLayer(c.dModel, c.heads, c.ffDim, c.dropout));
      crossM = register_module("crossM", CrossLayer(c.dModel, c.heads, c.dropout));
    }
    ffn = register_module("ffn", Ffn(c.dModel, c.ffDim, c.dropout));
  }
  EncoderLayer selfA{nullptr}, selfV{nullptr}, selfT{nullptr}, selfM{nullptr};
  CrossLayer crossV{nullptr}, crossT{nullptr}, crossM{nullptr};
  Ffn ffn{nullptr};
};
TORCH_MODULE(InteractiveBlock);

enum Modality { kAudio = 0, kVideo = 1, kText = 2, kMetrics = 3, kNumModalities = 4 };

// One encoded modality: tokens [B, L, d], pad [B, L], present [B] bool.
struct Tokens {
  at::Tensor x, pad, present;
  bool defined() const { return x.defined(); }
};

// A stride-2, kernel-3, padding-1 Conv1d over [B, C, T]. In inference on the CPU it runs as a
// GEMM on linear() (oneDNN; Debian's libtorch does conv1d with im2col on its reference BLAS,
// ~10% of a clip's model time): the windows unfolded to [B, T', C*3] times the weight seen as
// [out, C*3] (the same numbers in the same layout). Training keeps the Conv1d module.
at::Tensor subsample(torch::nn::Conv1d& conv, const at::Tensor& x, bool train) {
  if (train || !x.device().is_cpu() || x.scalar_type() != at::kFloat || !linearUsesOneDnn()) return conv(x);
  const auto& o = conv->options;
  TORCH_CHECK(o.kernel_size()->at(0) == 3 && o.stride()->at(0) == 2, "subsample: kernel 3, stride 2 expected");
  const int64_t B = x.size(0), C = x.size(1);
  at::Tensor padded = at::constant_pad_nd(x, {1, 1}, 0.0);           // [B, C, T + 2]
  at::Tensor win = padded.unfold(2, 3, 2);                             // [B, C, T', 3]
  at::Tensor cols = win.permute({0, 2, 1, 3}).reshape({B, -1, C * 3});  // [B, T', C*3]
  at::Tensor w = conv->weight.reshape({conv->weight.size(0), C * 3});
  return linear(cols, w, conv->bias).transpose(1, 2);                 // [B, out, T']
}

}  // namespace

struct GraderModelImpl::Impl {
  // audio
  Conv1d conv1{nullptr}, conv2{nullptr};
  LayerNorm audioLn{nullptr};
  Stack audioLayers;
  // text
  Embedding textEmb{nullptr};
  LayerNorm textLn{nullptr};
  Stack textLayers;
  // video
  std::vector<Conv2d> videoConvs;
  Linear videoProj{nullptr};
  LayerNorm videoLn{nullptr};
  Stack videoLayers;
  // metrics
  at::Tensor metricW1, metricB1, metricName;
  Linear metricProj{nullptr};
  // fusion
  at::Tensor modality;  // [4, d]
  Stack fusionLayers;   // early, late
  std::vector<InteractiveBlock> blocks;
  std::vector<AttnPool> latePools;  // late: one per modality
  LayerNorm finalLn{nullptr};
  AttnPool pool{nullptr};
  // heads
  Linear headHidden{nullptr}, gradeHead{nullptr}, flagHead{nullptr}, snrHead{nullptr};
};

GraderModelImpl::GraderModelImpl(const ModelConfig& cfg) : cfg_(cfg), impl_(std::make_shared<Impl>()) {
  cfg_.validate();
  const ModelConfig& c = cfg_;
  Impl& m = *impl_;
  const int64_t d = c.dModel;
  // audio
  m.conv1 = register_module("audioConv1", Conv1d(Conv1dOptions(c.audio.nMels, d, 3).stride(2).padding(1)));
  m.conv2 = register_module("audioConv2", Conv1d(Conv1dOptions(d, d, 3).stride(2).padding(1)));
  m.audioLayers = makeStack(*this, "audioLayers", c.audio.layers, c);
  m.audioLn = register_module("audioLn", LayerNorm(LayerNormOptions({d})));
  // text
  if (c.text.enabled) {
    m.textEmb = register_module("textEmb", Embedding(kTextVocab, d));
    m.textLayers = makeStack(*this, "textLayers", c.text.layers, c);
    m.textLn = register_module("textLn", LayerNorm(LayerNormOptions({d})));
  }
  // video
  if (c.video.enabled) {
    auto convs = register_module("videoConvs", ModuleList());
    int64_t in = 2;
    for (size_t i = 0; i < c.video.channels.size(); ++i) {
      const int64_t k = i == 0 ? 5 : 3;
      Conv2d conv(Conv2dOptions(in, c.video.channels[i], k).stride(2).padding(k / 2));
      convs->push_back(conv);
      m.videoConvs.push_back(conv);
      in = c.video.channels[i];
    }
    m.videoProj = register_module("videoProj", Linear(in, d));
    m.videoLayers = makeStack(*this, "videoLayers", c.video.layers, c);
    m.videoLn = register_module("videoLn", LayerNorm(LayerNormOptions({d})));
  }
  // metrics
  const int64_t K = int64_t(c.metrics.size());
  if (K > 0) {
    m.metricW1 = register_parameter("metricW1", torch::randn({K, d}));
    m.metricB1 = register_parameter("metricB1", torch::randn({K, d}) * 0.5);
    m.metricName = register_parameter("metricName", torch::randn({K, d}) * 0.02);
    m.metricProj = register_module("metricProj", Linear(d, d));
  }
  // fusion
  m.modality = register_parameter("modality", torch::randn({kNumModalities, d}) * 0.02);
  if (c.fusion == Fusion::Interactive) {
    auto list = register_module("blocks", ModuleList());
    for (int i = 0; i < c.fusionLayers; ++i) {
      InteractiveBlock b(c);
      list->push_back(b);
      m.blocks.push_back(b);
    }
  } else {
    m.fusionLayers = makeStack(*this, "fusionLayers", c.fusionLayers, c);
  }
  if (c.fusion == Fusion::Late) {
    auto list = register_module("latePools", ModuleList());
    for (int i = 0; i < kNumModalities; ++i) {
      AttnPool p(d);
      list->push_back(p);
      m.latePools.push_back(p);
    }
  }
  m.finalLn = register_module("finalLn", LayerNorm(LayerNormOptions({d})));
  m.pool = register_module("pool", AttnPool(d));
  m.headHidden = register_module("headHidden", Linear(d, d));
  m.gradeHead = register_module("gradeHead", Linear(d, int64_t(c.grades.size())));
  m.flagHead = register_module("flagHead", Linear(d, int64_t(c.flags.size())));
  m.snrHead = register_module("snrHead", Linear(d, 1));
}

int64_t GraderModelImpl::parameterCount() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

at::Tensor ModelOutput::snrDb() const { return snrNorm * snrScale + snrOffset; }

ModelOutput GraderModelImpl::forward(const ModelBatch& batch) {
  const ModelConfig& c = cfg_;
  Impl& m = *impl_;
  const int64_t d = c.dModel;
  const double p = c.dropout;
  const bool train = is_training();
  if (!batch.audio.defined() || batch.audio.dim() != 3 || batch.audio.size(2) != c.audio.nMels)
    throwInvalidArg("GraderModel: batch.audio must be [B, T, " + std::to_string(c.audio.nMels) + "]");
  const int64_t B = batch.audio.size(0);
  const auto dev = batch.audio.device();
  const auto fopt = batch.audio.options();
  std::array<Tokens, kNumModalities> tok;

  // ---- audio ----
  {
    const at::Tensor len = batch.audioLen.clamp_min(1);
    const int64_t T = batch.audio.size(1);
    at::Tensor x = batch.audio.masked_fill(lengthMask(len, T).unsqueeze(-1), 0.0).transpose(1, 2);
    x = act(subsample(m.conv1, x, train));
    at::Tensor l1 = torch::div(len - 1, 2, "floor") + 1;
    x = x.masked_fill(lengthMask(l1, x.size(2)).unsqueeze(1), 0.0);
    x = act(subsample(m.conv2, x, train));
    at::Tensor l2 = torch::div(l1 - 1, 2, "floor") + 1;
    at::Tensor pad = lengthMask(l2, x.size(2));
    x = x.masked_fill(pad.unsqueeze(1), 0.0).transpose(1, 2);  // [B, T2, d]
    x = x + sinusoid(torch::arange(x.size(1), fopt), d).unsqueeze(0);
    x = torch::dropout(x, p, train);
    x = m.audioLn(m.audioLayers.run(x, pad));
    tok[kAudio] = {x, pad, torch::ones({B}, torch::dtype(torch::kBool).device(dev))};
  }
  // ---- text ----
  if (c.text.enabled && batch.text.defined() && batch.text.size(1) > 0 && batch.textLen.max().item<int64_t>() > 0) {
    const int64_t L = batch.text.size(1);
    at::Tensor pad = lengthMask(batch.textLen, L);
    at::Tensor ids = batch.text.masked_fill(pad, 0).clamp(0, kTextVocab - 1);
    at::Tensor x = m.textEmb(ids) + sinusoid(torch::arange(L, fopt), d).unsqueeze(0);
    x = torch::dropout(x, p, train);
    x = m.textLn(m.textLayers.run(x, pad));
    tok[kText] = {x, pad, batch.textLen > 0};
  }
  // ---- video ----
  if (c.video.enabled && batch.video.defined() && batch.video.size(1) > 0 &&
      batch.videoLen.max().item<int64_t>() > 0) {
    const int64_t F = batch.video.size(1), H = batch.video.size(2), W = batch.video.size(3);
    if (H != c.video.height || W != c.video.width)
      throwInvalidArg("GraderModel: batch.video frames must be " + std::to_string(c.video.height) + "x" +
                      std::to_string(c.video.width));
    at::Tensor pad = lengthMask(batch.videoLen, F);
    at::Tensor v = batch.video.to(at::kFloat).div(255.0);
    at::Tensor prev = torch::cat({v.narrow(1, 0, 1), v.narrow(1, 0, F - 1)}, 1);
    at::Tensor x = torch::stack({(v - 0.5) * 4.0, (v - prev) * 4.0}, 2).reshape({B * F, 2, H, W});
    at::Tensor idx = (~pad).reshape({B * F}).nonzero().squeeze(1);
    at::Tensor y = x.index_select(0, idx);
    for (auto& conv : m.videoConvs) y = act(conv(y));
    y = m.videoProj(y.mean({2, 3}));  // [N, d]
    at::Tensor all = torch::zeros({B * F, d}, fopt).index_copy(0, idx, y).view({B, F, d});
    const double step = c.audioTokenRate() / c.video.fps;  // positions in audio-token units
    all = all + sinusoid(torch::arange(F, fopt) * step, d).unsqueeze(0);
    all = torch::dropout(all, p, train);
    all = m.videoLn(m.videoLayers.run(all, pad));
    tok[kVideo] = {all, pad, batch.videoLen > 0};
  }
  // ---- metrics ----
  if (!c.metrics.empty()) {
    const int64_t K = int64_t(c.metrics.size());
    if (!batch.metrics.defined() || batch.metrics.dim() != 2 || batch.metrics.size(1) != K)
      throwInvalidArg("GraderModel: batch.metrics must be [B, " + std::to_string(K) + "]");
    at::Tensor pad = torch::isnan(batch.metrics);
    at::Tensor v = batch.metrics.masked_fill(pad, 0.0).unsqueeze(-1);  // [B,K,1]
    at::Tensor h = act(v * m.metricW1.unsqueeze(0) + m.metricB1.unsqueeze(0));
    at::Tensor x = m.metricProj(h) + m.metricName.unsqueeze(0);
    tok[kMetrics] = {x, pad, (~pad).any(1)};
  }

  auto addModality = [&](int i) { return tok[i].x + m.modality[i].view({1, 1, d}); };
  at::Tensor z;
  if (c.fusion == Fusion::Early || c.fusion == Fusion::Interactive) {
    if (c.fusion == Fusion::Interactive) {
      for (int i = 0; i < kNumModalities; ++i)
        if (tok[i].defined()) tok[i].x = addModality(i);
      for (auto& blk : m.blocks) {
        Tokens& A = tok[kAudio];
        A.x = blk->selfA(A.x, A.pad);
        if (tok[kVideo].defined()) tok[kVideo].x = blk->selfV(tok[kVideo].x, tok[kVideo].pad);
        if (tok[kText].defined()) tok[kText].x = blk->selfT(tok[kText].x, tok[kText].pad);
        if (tok[kMetrics].defined()) tok[kMetrics].x = blk->selfM(tok[kMetrics].x, tok[kMetrics].pad);
        if (tok[kVideo].defined()) A.x = blk->crossV(A.x, tok[kVideo].x, tok[kVideo].pad, tok[kVideo].present);
        if (tok[kText].defined()) A.x = blk->crossT(A.x, tok[kText].x, tok[kText].pad, tok[kText].present);
        if (tok[kMetrics].defined())
          A.x = blk->crossM(A.x, tok[kMetrics].x, tok[kMetrics].pad, tok[kMetrics].present);
        A.x = A.x + blk->ffn(A.x);
      }
    }
    std::vector<at::Tensor> xs, pads;
    for (int i = 0; i < kNumModalities; ++i) {
      if (!tok[i].defined()) continue;
      xs.push_back(c.fusion == Fusion::Early ? addModality(i) : tok[i].x);
      pads.push_back(tok[i].pad);
    }
    at::Tensor x = torch::cat(xs, 1), pad = torch::cat(pads, 1);
    if (c.fusion == Fusion::Early) x = m.fusionLayers.run(x, pad);
    z = m.pool(m.finalLn(x), pad);
  } else {  // late
    std::vector<at::Tensor> xs, pads;
    for (int i = 0; i < kNumModalities; ++i) {
      if (tok[i].defined()) {
        xs.push_back(m.latePools[size_t(i)](tok[i].x, tok[i].pad));
        pads.push_back(~tok[i].present);
      } else {
        xs.push_back(torch::zeros({B, d}, fopt));
        pads.push_back(torch::ones({B}, torch::dtype(torch::kBool).device(dev)));
      }
    }
    at::Tensor x = torch::stack(xs, 1) + m.modality.unsqueeze(0);  // [B, 4, d]
    at::Tensor pad = torch::stack(pads, 1);
    x = m.fusionLayers.run(x, pad);
    z = m.pool(m.finalLn(x), pad);
  }
  at::Tensor h = torch::dropout(act(m.headHidden(z)), p, train);
  ModelOutput out;
  out.gradeLogits = m.gradeHead(h);
  out.flagLogits = m.flagHead(h);
  out.snrNorm = m.snrHead(h).squeeze(-1);
  out.snrOffset = c.snr.offset;
  out.snrScale = c.snr.scale;
  return out;
}

// ---- weights ------------------------------------------------------------------------------------

std::vector<std::pair<std::string, at::Tensor>> namedState(GraderModel& model) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& p : model->named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : model->named_buffers(true)) out.emplace_back(b.key(), b.value());
  return out;
}

void saveWeights(GraderModel& model, const std::string& path) {
  namespace fs = std::filesystem;
  const std::string tmp = path + ".tmp";
  try {
    torch::serialize::OutputArchive archive;
    model->save(archive);  // what torch::save(module, path) writes
    archive.write("voxqc_format", torch::tensor({int64_t(1)}), /*is_buffer=*/true);
    archive.save_to(tmp);
    fs::rename(tmp, path);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw Error(ErrorCode::Native, "cannot write model weights " + path + ": " + e.what());
  }
}

namespace {

std::string shapeStr(at::IntArrayRef s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

std::string firstLine(const std::string& s) {
  auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

// Every tensor key under `archive` (dotted), recursively.
void collectKeys(torch::serialize::InputArchive& archive, const std::string& prefix, std::vector<std::string>& out) {
  for (const std::string& k : archive.keys()) {
    at::Tensor t;
    if (archive.try_read(k, t)) {
      out.push_back(prefix + k);
      continue;
    }
    torch::serialize::InputArchive sub;
    if (archive.try_read(k, sub)) collectKeys(sub, prefix + k + ".", out);
  }
}

}  // namespace

void loadWeights(GraderModel& model, const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(ErrorCode::NotFound, "model weights " + path + ": file not found");
  if (!fs::is_regular_file(path, ec)) throwInvalidArg("model weights " + path + ": not a regular file");
  const auto size = fs::file_size(path, ec);
  if (ec || size == 0) throwDecode("model weights " + path + ": the file is empty");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, at::kCPU);
  } catch (const std::exception& e) {
    throwDecode("model weights " + path + ": not a readable libtorch archive (" + firstLine(e.what()) +
                "); the file is corrupt or not a model.pt written by voxqc");
  }
  std::vector<std::string> keys;
  try {
    collectKeys(archive, "", keys);
  } catch (const std::exception& e) {
    throwDecode("model weights " + path + ": cannot list the tensors in the archive (" + firstLine(e.what()) + ")");
  }
  std::set<std::string> fileKeys(keys.begin(), keys.end());
  if (!fileKeys.count("voxqc_format"))
    throwDecode("model weights " + path + ": not a voxqc grader weights file (no voxqc_format marker)");
  const std::string hint = " (do config.json and model.pt belong together? fusion \"" +
                           std::string(toString(model->config().fusion)) + "\", dModel " +
                           std::to_string(model->config().dModel) + ")";
  std::vector<std::pair<at::Tensor, at::Tensor>> assign;
  std::set<std::string> used{"voxqc_format"};
  for (auto& [name, dst] : namedState(model)) {
    if (!fileKeys.count(name))
      throwInvalidArg("model weights " + path + ": tensor \"" + name + "\" is missing" + hint);
    used.insert(name);
    // Navigate the nested archives a.b.c.
    torch::serialize::InputArchive* cur = &archive;
    std::deque<torch::serialize::InputArchive> chain;
    size_t start = 0, dot;
    while ((dot = name.find('.', start)) != std::string::npos) {
      chain.emplace_back();
      if (!cur->try_read(name.substr(start, dot - start), chain.back()))
        throwInvalidArg("model weights " + path + ": tensor \"" + name + "\" is missing" + hint);
      cur = &chain.back();
      start = dot + 1;
    }
    at::Tensor src;
    if (!cur->try_read(name.substr(start), src))
      throwInvalidArg("model weights " + path + ": tensor \"" + name + "\" is missing" + hint);
    if (src.sizes() != dst.sizes())
      throwInvalidArg("model weights " + path + ": tensor \"" + name + "\" has shape " + shapeStr(src.sizes()) +
                      " in the file, the config expects " + shapeStr(dst.sizes()) + hint);
    if (!src.is_floating_point())
      throwInvalidArg("model weights " + path + ": tensor \"" + name + "\" is not floating point");
    if (!torch::isfinite(src).all().item<bool>())
      throwInvalidArg("model weights " + path + ": tensor \"" + name + "\" holds NaN or infinite values");
    assign.emplace_back(dst, src);
  }
  for (const auto& k : fileKeys)
    if (!used.count(k))
      throwInvalidArg("model weights " + path + ": unexpected tensor \"" + k + "\" in the file" + hint);
  torch::NoGradGuard ng;
  for (auto& [dst, src] : assign) dst.copy_(src.to(dst.device(), dst.scalar_type()));
}

}  // namespace voxqc::model
