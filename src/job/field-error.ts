/**
 * The one shape of a validation failure: the field, its value as JSON (shortened when long), and what was
 * expected, e.g. `outputs[1].bitrate = "fast": expected a bitrate such as "2500k" or "5M"`.
 */
import { JobValidationError } from '../errors.js';
import { show as showString } from '../transcode/nas-path.js';

export function showValue(value: unknown): string {
  return typeof value === 'string' ? showString(value) : JSON.stringify(value);
}

export function failField(field: string, value: unknown, expected: string): never {
  throw new JobValidationError(`${field} = ${showValue(value)}: ${expected}`);
}
