// Options of the CPU feature kernels (cpp/features/features.h). Plain structs, Kaldi/whisper.cpp
// style: every field carries its default next to it, and every default is the one of
// torchaudio 0.13 (torchaudio.transforms.Spectrogram / MelSpectrogram / MFCC and
// torchaudio.compliance.kaldi.fbank / mfcc). Field names are torchaudio's argument names in
// camelCase (n_fft -> nFft, melkwargs flattened), the names the JS API and the fixtures'
// index.json use too. Where torchaudio uses None, these structs use 0 (documented per field).
#pragma once

#include <string>

namespace voxqc::features {

// Window functions of the torchaudio transforms. All are the *periodic* forms torch builds by
// default (torchaudio calls window_fn(win_length)), e.g. hann = torch.hann_window(N), i.e.
// 0.5 - 0.5 cos(2 pi n / N).
enum class WindowType {
  hann,         // torch.hann_window (the default)
  hamming,      // torch.hamming_window: 0.54 - 0.46 cos(2 pi n / N)
  blackman,     // torch.blackman_window: 0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)
  bartlett,     // torch.bartlett_window: 1 - |2n/N - 1|
  rectangular,  // torch.ones
};

// How torch.stft pads the two ends when center is true (torch.nn.functional.pad modes).
enum class PadMode {
  reflect,    // x[1], x[0] | x[0], x[1] ... : needs clip length > nFft / 2
  constant,   // zeros
  replicate,  // x[0], x[0] | x[0] ...
  circular,   // wraps around: needs clip length >= nFft / 2
};

enum class MelNorm {
  none,    // triangles of peak 1 (torchaudio norm=None, the default)
  slaney,  // area-normalised: each triangle divided by half its width in Hz (norm="slaney")
};

enum class MelScale {
  htk,     // 2595 log10(1 + f / 700) (the default)
  slaney,  // linear below 1 kHz, logarithmic above (librosa / Slaney's Auditory Toolbox)
};

enum class DctNorm {
  ortho,  // orthonormal DCT-II (torchaudio's MFCC default norm="ortho")
  none,   // unnormalised DCT-II: 2 sum x[n] cos(pi k (n + 0.5) / N)
};

// Window functions of torchaudio.compliance.kaldi; all *symmetric* (periodic=False), as Kaldi.
enum class KaldiWindowType {
  povey,        // hann(symmetric) ^ 0.85 (the default)
  hanning,      // symmetric hann
  hamming,      // symmetric hamming, 0.54 - 0.46 cos(2 pi n / (N - 1))
  rectangular,  // ones
  blackman,     // blackmanCoeff - 0.5 cos(a n) + (0.5 - blackmanCoeff) cos(2 a n), a = 2 pi / (N - 1)
};

// torchaudio.transforms.Spectrogram. Output: [frames][bins], bins = nFft / 2 + 1 (onesided) or
// nFft; frames = 1 + (L - nFft) / hopLength with L = n + 2 pad (+ 2 (nFft / 2) when center).
struct SpectrogramOptions {
  int nFft = 400;           // FFT size (n_fft)
  int winLength = 0;        // window length (win_length); 0 (None) means nFft. The window is
                            // centred in the nFft frame, as torch.stft does.
  int hopLength = 0;        // hop between frames (hop_length); 0 (None) means winLength / 2
  int pad = 0;              // zeros added to both ends of the clip before framing (pad)
  WindowType window = WindowType::hann;  // window_fn, periodic (torch default)
  double power = 2.0;       // exponent of the magnitude: 2 power, 1 magnitude, any value > 0.
                            // (torchaudio's power=None, the complex output, is not offered)
  bool normalized = false;  // normalized=True ("window"): divide the STFT by sqrt(sum(window^2))
  bool center = true;       // pad nFft / 2 at both ends (padMode) so frame t is centred at t*hop
  PadMode padMode = PadMode::reflect;  // pad_mode used when center
  bool onesided = true;     // bins 0..nFft/2 only; false gives all nFft bins (Spectrogram only)
  int sampleRate = 16000;   // not a Spectrogram argument: used only to say where (in seconds)
                            // a NaN/Inf sample is in error messages. MelSpectrogram's sample_rate.
};

// torchaudio.transforms.MelSpectrogram: the spectrogram fields above plus the MelScale ones.
// Output: [frames][nMels].
struct MelSpectrogramOptions : SpectrogramOptions {
  // sampleRate (inherited, default 16000) is sample_rate: it places the mel filters.
  int nMels = 128;          // number of mel filters (n_mels)
  double fMin = 0.0;        // lowest filter edge in Hz (f_min)
  double fMax = 0.0;        // highest filter edge in Hz (f_max); 0 (None) means sampleRate / 2
                            // (integer division, as torchaudio's float(sample_rate // 2))
  MelNorm norm = MelNorm::none;         // norm
  MelScale melScale = MelScale::htk;    // mel_scale
};

// torchaudio.transforms.MFCC; the MelSpectrogram fields are its melkwargs (same defaults as
// MelSpectrogram: nMels 128, nFft 400, hann, power 2...). Output: [frames][nMfcc].
// logMels false: mel -> AmplitudeToDB("power", top_db=80): 10 log10(max(mel, 1e-10)), then
// every value below (maximum over the whole clip - 80 dB) is raised to it, then the DCT.
// logMels true: log(mel + 1e-6), then the DCT.
struct MfccOptions : MelSpectrogramOptions {
  int nMfcc = 40;                   // number of coefficients kept (n_mfcc), <= nMels
  int dctType = 2;                  // dct_type; only 2 exists (torchaudio too)
  DctNorm dctNorm = DctNorm::ortho; // norm of MFCC ("ortho" or None)
  bool logMels = false;             // log_mels
};

// torchaudio.compliance.kaldi.fbank (= Kaldi's compute-fbank-feats with torchaudio's defaults;
// note torchaudio's energyFloor default is 1.0 where Kaldi's is 0). Output:
// [frames][numMelBins + useEnergy]; with snipEdges frames = 1 + (n - winSize) / shift, else
// (n + shift / 2) / shift. winSize = int(sampleFrequency * frameLength / 1000), shift likewise.
struct KaldiFbankOptions {
  double blackmanCoeff = 0.42;        // blackman_coeff (blackman window only)
  double dither = 0.0;                // dither: must be 0 (no random noise; outputs reproducible)
  double energyFloor = 1.0;           // energy_floor: log-energy floored at log(energyFloor);
                                      // 0 means no floor
  double frameLength = 25.0;          // frame_length in milliseconds
  double frameShift = 10.0;           // frame_shift in milliseconds
  double highFreq = 0.0;              // high_freq in Hz; <= 0 means Nyquist + highFreq
  bool htkCompat = false;             // htk_compat: energy last instead of first
  double lowFreq = 20.0;              // low_freq in Hz
  double minDuration = 0.0;           // min_duration in seconds: shorter clips give 0 frames
  int numMelBins = 23;                // num_mel_bins (> 3)
  double preemphasisCoefficient = 0.97;  // preemphasis_coefficient in [0, 1]
  bool rawEnergy = true;              // raw_energy: energy before preemphasis and window
  bool removeDcOffset = true;         // remove_dc_offset: subtract each frame's mean
  bool roundToPowerOfTwo = true;      // round_to_power_of_two: FFT size = next power of two
  double sampleFrequency = 16000.0;   // sample_frequency in Hz
  bool snipEdges = true;              // snip_edges: only frames that fit; else reflect the ends
  bool subtractMean = false;          // subtract_mean: subtract each column's mean over the clip
  bool useEnergy = false;             // use_energy: add the log-energy column
  bool useLogFbank = true;            // use_log_fbank: log(max(mel, float eps))
  bool usePower = true;               // use_power: power (|X|^2) instead of magnitude
  double vtlnHigh = -500.0;           // vtln_high (only used with warping: not supported)
  double vtlnLow = 100.0;             // vtln_low (likewise)
  double vtlnWarp = 1.0;              // vtln_warp: must be 1.0 (no warping)
  KaldiWindowType windowType = KaldiWindowType::povey;  // window_type
};

// torchaudio.compliance.kaldi.mfcc: the fbank fields (useLogFbank and usePower are forced to
// true, subtractMean applies to the cepstra) plus numCeps and cepstralLifter.
// Output: [frames][numCeps].
struct KaldiMfccOptions : KaldiFbankOptions {
  int numCeps = 13;               // num_ceps, <= numMelBins
  double cepstralLifter = 22.0;   // cepstral_lifter; 0 means no liftering
};

// Names as the JS API and index.json spell them ("hann", "reflect", "slaney", "ortho", "povey",
// ...). The parsers throw voxqc::Error (ERR_INVALID_ARG) naming the option and the accepted values.
const char* toString(WindowType v);
const char* toString(PadMode v);
const char* toString(MelNorm v);
const char* toString(MelScale v);
const char* toString(DctNorm v);
const char* toString(KaldiWindowType v);
WindowType parseWindowType(const std::string& s);
PadMode parsePadMode(const std::string& s);
MelNorm parseMelNorm(const std::string& s);
MelScale parseMelScale(const std::string& s);
DctNorm parseDctNorm(const std::string& s);
KaldiWindowType parseKaldiWindowType(const std::string& s);

}  // namespace voxqc::features
