/**
 * Checks data against our TypeBox schemas with one shared, lazily compiling Ajv instance: the protocol's messages,
 * the records in state_dir and the ownership markers on the NAS all go through here.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';

// validateSchema/meta off: the schemas are our own TypeBox definitions (checked by the tests), not user input, so
// checking them against the draft-07 meta-schema would only compile and keep that meta-schema's validator in memory
// (~0.4 MB of the idle worker's heap, which should stay small: bench/footprint.mjs measures it).
const ajv = new Ajv({ allErrors: false, strict: false, validateSchema: false, meta: false });
const cache = new WeakMap<TSchema, ValidateFunction>();

function compiled(schema: TSchema): ValidateFunction {
  let fn = cache.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    cache.set(schema, fn);
  }
  return fn;
}

/** "outputs/0/bitrate must be string" style text for the first schema violation. */
export function describeSchemaErrors(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'invalid';
  const where = e.instancePath ? e.instancePath.replace(/^\//, '').replace(/\//g, '.') : '(root)';
  if (e.keyword === 'required')
    return `${where === '(root)' ? '' : where + '.'}${String(e.params.missingProperty)} is required`;
  if (e.keyword === 'additionalProperties') return `${where}: unexpected field ${String(e.params.additionalProperty)}`;
  return `${where} ${e.message ?? 'is invalid'}`;
}

/** Returns null when valid, else a human description of the first problem. */
export function checkSchema(schema: TSchema, data: unknown): string | null {
  const fn = compiled(schema);
  return fn(data) ? null : describeSchemaErrors(fn.errors);
}
