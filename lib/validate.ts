// Option validation with messages that name the option, what was expected and what was received.
import { VoxqcError } from './errors.js';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value}' (string)`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${String(value)} (${typeof value})`;
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as Uint8Array).length}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

export function invalid(where: string, option: string, expected: string, received: unknown): VoxqcError {
  return new VoxqcError(
    'ERR_INVALID_ARG',
    `${where}: expected ${option} to be ${expected}, but received ${describe(received)}`,
  );
}

/** Checks that `options` is undefined or a plain object whose keys are all known. */
export function checkOptions<T extends object>(
  where: string,
  options: unknown,
  known: readonly string[],
): Partial<T> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid(where, 'options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new VoxqcError(
        'ERR_INVALID_ARG',
        `${where}: unknown option '${key}' (known options: ${known.join(', ')})`,
      );
    }
  }
  return options as Partial<T>;
}

export function checkInteger(
  where: string,
  option: string,
  value: unknown,
  min: number,
  max: number,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(where, option, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

export function checkNumber(
  where: string,
  option: string,
  value: unknown,
  range: { min?: number; max?: number; minExclusive?: boolean } = {},
): number {
  const { min = -Infinity, max = Infinity, minExclusive = false } = range;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (minExclusive ? value > min : value >= min) &&
    value <= max;
  if (!ok) {
    const lo = min === -Infinity ? '' : `${minExclusive ? '>' : '≥'} ${min}`;
    const hi = max === Infinity ? '' : `≤ ${max}`;
    throw invalid(where, option, `a finite number${lo || hi ? ' ' : ''}${[lo, hi].filter(Boolean).join(' and ')}`, value);
  }
  return value;
}

export function checkOneOf<T extends string>(where: string, option: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw invalid(where, option, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as T;
}

export function checkBoolean(where: string, option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalid(where, option, 'a boolean', value);
  return value;
}
