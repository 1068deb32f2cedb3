// voxqc's public API. Everything exported here is documented and typed; nothing else is public.
export { VoxqcError } from './errors.js';
export type { VoxqcErrorCode } from './errors.js';
export { loadAudio, resample } from './audio.js';
export type { Audio, AudioInput, AudioSourceInfo, LoadAudioOptions } from './audio.js';
export { configure, getConfig, runtimeInfo, VERSION } from './runtime.js';
export type { RuntimeInfo, VoxqcConfig } from './runtime.js';
export { describeAudio, describeFiles } from './describe.js';
export type { AudioDescription, DescribeResult } from './describe.js';
export {
  spectrogram,
  melSpectrogram,
  mfcc,
  fbank,
  kaldiMfcc,
  spectrogramBatch,
  melSpectrogramBatch,
  mfccBatch,
  fbankBatch,
  kaldiMfccBatch,
} from './features.js';
export type {
  Features,
  SpectrogramOptions,
  MelSpectrogramOptions,
  MfccOptions,
  FbankOptions,
  KaldiMfccOptions,
  WindowName,
  PadMode,
  KaldiWindowName,
} from './features.js';
export { avOffset } from './video.js';
export type { AvOffsetOptions, AvOffsetResult, FrameRegion } from './video.js';
export { analyze, vad, gradeClip } from './analyze.js';
export type { AnalyzeOptions, AnalyzeResult, SpeechSegment } from './analyze.js';
export { applyRubric, loadThresholds, resolveThresholds, DEFAULT_THRESHOLDS } from './rubric.js';
export type { Thresholds } from './rubric.js';
export type { ClipInput, ClipResult, ClipGrader, ClipGraderOptions, Grade, Flag, Scores } from './grading.js';
export * from './dataset/index.js';
export { Grader, defaultModelDir, combineGrades } from './grader.js';
export type { GraderClip, GraderLoadOptions, ModelGrade, FinalGradePolicy } from './grader.js';
export { prepareTrainingData } from './prepare.js';
export type { PrepareOptions, PrepareSummary } from './prepare.js';
export { train } from './train.js';
export type { TrainOptions, TrainProgress, TrainResult, TrainHandle } from './train.js';
export * from './queue/index.js';
