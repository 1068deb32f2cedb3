/**
 * The error every voxqc failure is reported with. `code` says what kind of failure it is,
 * `file` which input it concerns (when there is one).
 */
export type VoxqcErrorCode =
  | 'ERR_INVALID_ARG' // an option or input is out of its domain
  | 'ERR_NOT_FOUND' // a file that does not exist
  | 'ERR_DECODE' // bytes that are not valid audio/video in the format they claim
  | 'ERR_UNSUPPORTED' // a valid input that this build cannot handle
  | 'ERR_TOO_LONG' // a clip longer than maxDurationSec
  | 'ERR_TIMEOUT' // a decode that ran past its time limit
  | 'ERR_FFMPEG_MISSING' // ffmpeg is needed and not installed
  | 'ERR_NATIVE_LOAD' // the native addon could not be loaded
  | 'ERR_NATIVE'; // a failure inside the native core (libtorch, memory)

export class VoxqcError extends Error {
  readonly code: VoxqcErrorCode;
  readonly file?: string;

  constructor(code: VoxqcErrorCode, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VoxqcError';
    this.code = code;
    if (options.file !== undefined) this.file = options.file;
  }
}

const NATIVE_CODES = new Set<string>([
  'ERR_INVALID_ARG',
  'ERR_DECODE',
  'ERR_UNSUPPORTED',
  'ERR_NOT_FOUND',
  'ERR_NATIVE',
]);

/** Wraps an error thrown by the native addon (which carries `.code`) into a VoxqcError. */
export function fromNativeError(err: unknown, context: { file?: string; what?: string } = {}): VoxqcError {
  if (err instanceof VoxqcError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' && NATIVE_CODES.has(e.code) ? (e.code as VoxqcErrorCode) : 'ERR_NATIVE';
  const detail = typeof e?.message === 'string' ? e.message : String(err);
  const prefix = context.file ? `${context.file}: ` : context.what ? `${context.what}: ` : '';
  return new VoxqcError(code, prefix + detail, { file: context.file, cause: err });
}
