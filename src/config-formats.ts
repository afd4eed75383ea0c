/**
 * The value formats of the configuration keys: convict's custom formats (registered on import, before any schema
 * is loaded) and the words that describe each format in errors and docs.
 */
import convict from 'convict';

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "500ms", "10s", "1m", "2h" or a bare number of milliseconds -> milliseconds. */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  const m = typeof value === 'string' ? DURATION_RE.exec(value.trim()) : null;
  if (!m) throw new Error('expected a duration such as "500ms", "10s" or "1m"');
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!);
}

convict.addFormat({
  name: 'duration',
  validate(v: unknown) {
    parseDuration(v);
  },
  // Coercion must not throw (convict coerces env values while constructing); validate() reports bad values.
  coerce: (v: unknown) => {
    try {
      return parseDuration(v);
    } catch {
      return v;
    }
  },
});

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$/i;
const UNIT_BYTES: Record<string, number> = {
  '': 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  ki: 2 ** 10,
  mi: 2 ** 20,
  gi: 2 ** 30,
  ti: 2 ** 40,
};

/** "50GB", "500MB", "1.5GiB", "10G" or a bare number of bytes -> bytes (KB/MB/GB/TB are powers of 1000, KiB/... of 1024). */
export function parseSize(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.round(value);
  const m = typeof value === 'string' ? SIZE_RE.exec(value.trim()) : null;
  if (!m) throw new Error('expected a size such as "500MB", "50GB" or "1.5GiB"');
  const unit = (m[2] ?? '').toLowerCase().replace(/b$/, '');
  return Math.round(Number(m[1]) * UNIT_BYTES[unit]!);
}

convict.addFormat({
  name: 'size',
  validate(v: unknown) {
    parseSize(v);
  },
  // Like duration: coercion must not throw, validate() reports bad values.
  coerce: (v: unknown) => {
    try {
      return parseSize(v);
    } catch {
      return v;
    }
  },
});

convict.addFormat({
  name: 'http-url',
  validate(v: unknown) {
    let ok = false;
    try {
      const u = new URL(String(v));
      ok = u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) throw new Error('expected an http:// or https:// URL');
  },
});

convict.addFormat({
  name: 'percent',
  validate(v: unknown) {
    if (typeof v !== 'number' || !(v > 0 && v <= 100)) throw new Error('expected a number above 0 and at most 100');
  },
  coerce: (v: unknown) => (v === '' || Number.isNaN(Number(v)) ? v : Number(v)),
});

convict.addFormat({
  name: 'non-empty',
  validate(v: unknown) {
    if (typeof v !== 'string' || v.trim() === '') throw new Error('expected a non-empty string');
  },
});

/** The formats a key may have; a new one also needs a case in describeFormat and in config-schema.ts's ValueOf. */
export type KnownFormat =
  | 'duration'
  | 'size'
  | 'http-url'
  | 'percent'
  | 'non-empty'
  | 'port'
  | 'nat'
  | StringConstructor
  | BooleanConstructor
  | readonly string[];

/** Human description of what a key accepts, for error messages and docs. */
export function describeFormat(leaf: { format: unknown }): string {
  const f = leaf.format;
  if (Array.isArray(f)) return `one of ${f.join(', ')}`;
  switch (f) {
    case 'duration':
      return 'a duration such as "500ms", "10s" or "1m"';
    case 'size':
      return 'a size such as "500MB", "50GB" or "1.5GiB" (or a number of bytes)';
    case 'http-url':
      return 'an http:// or https:// URL';
    case 'percent':
      return 'a number above 0 and at most 100';
    case 'port':
      return 'a port number (0-65535)';
    case 'nat':
      return 'a whole number';
    case 'non-empty':
      return 'a non-empty string';
    case Boolean:
      return 'true or false';
    default:
      return 'a string';
  }
}
