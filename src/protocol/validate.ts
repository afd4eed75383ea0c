/**
 * Validation of what crosses the wire: the shared schema checker (util/schema-check.ts), plus the ProtocolError that
 * names what was being read.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { ProtocolError } from '../errors.js';
import { checkSchema } from '../util/schema-check.js';

export { checkSchema } from '../util/schema-check.js';

/** Validates `data` or throws a ProtocolError that says what was being read and what is wrong. */
export function assertSchema<T extends TSchema>(schema: T, data: unknown, what: string): Static<T> {
  const problem = checkSchema(schema, data);
  if (problem) throw new ProtocolError(`${what} does not match the protocol: ${problem}`);
  return data as Static<T>;
}
