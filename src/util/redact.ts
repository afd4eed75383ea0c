/**
 * Secrets out of everything a person or a log shipper sees. Two kinds of secret reach this process:
 *
 * - credentials inside a URL (`http://user:password@host`, in orchestrator_url or in a Location header), and
 * - the auth_token, sent as `Authorization: Bearer <token>`.
 *
 * URLs are redacted where they are shown (redactUrl); free text (error messages, answer bodies, whole log lines) is
 * scrubbed as a safety net (createScrubber), so a secret that slipped into a message by a path nobody thought of is
 * still masked. The scrubber only ever replaces; it never drops a line.
 */

export const REDACTED = '[redacted]';

/** `scheme://userinfo@` anywhere in a text; userinfo stops at whitespace, quotes and the characters ending an authority. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>\\]+@/gi;

/** A URL with its user name and password replaced by [redacted]; other text is returned as it is. */
export function redactUrl(url: string): string {
  const scrubbed = url.replace(URL_USERINFO, `$1${REDACTED}@`);
  if (scrubbed !== url) return scrubbed;
  // No scheme ("user:pw@host:8080", a mistyped orchestrator_url): everything before an '@' in the authority part
  // can only be credentials.
  return url.replace(/^("?)[^\s/?#@"]+@/, `$1${REDACTED}@`);
}

/** Every URL's credentials in a text replaced by [redacted] (error messages, bodies, log lines). */
export function redactUrlsIn(text: string): string {
  return text.replace(URL_USERINFO, `$1${REDACTED}@`);
}

/**
 * Shorter literal secrets are not scrubbed from free text: replacing every "ab" in every log line would make the logs
 * unreadable, and a token that short is no secret anyway. URL credentials are redacted whatever their length.
 */
export const MIN_SCRUBBED_SECRET_LENGTH = 4;

/**
 * The literal strings that must never be shown: the token and the URL's user name and password, in the forms they
 * can take in text (as typed, percent-decoded, and escaped inside a JSON string).
 */
export function secretsOf(opts: { authToken?: string; urls?: string[] }): string[] {
  const out = new Set<string>();
  const add = (s: string | undefined) => {
    if (!s || s.length < MIN_SCRUBBED_SECRET_LENGTH) return;
    out.add(s);
    out.add(JSON.stringify(s).slice(1, -1));
  };
  add(opts.authToken);
  for (const url of opts.urls ?? []) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      continue; // not a URL: redactUrl still masks its userinfo where it is shown
    }
    for (const part of [parsed.username, parsed.password]) {
      add(part);
      add(safeDecode(part));
    }
  }
  // Longest first, so a secret that contains another is replaced whole.
  return [...out].sort((a, b) => b.length - a.length);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A function that masks URL credentials and the given literal secrets in any text. */
export function createScrubber(secrets: readonly string[] = []): (text: string) => string {
  const literals = secrets.filter((s) => s.length >= MIN_SCRUBBED_SECRET_LENGTH);
  return (text: string) => {
    let out = redactUrlsIn(text);
    for (const s of literals) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  };
}

/** Applies `scrub` to every string in a JSON-like value (for /status and /readyz bodies). */
export function scrubDeep<T>(value: T, scrub: (text: string) => string): T {
  if (typeof value === 'string') return scrub(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => scrubDeep(v, scrub)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, scrub);
    return out as T;
  }
  return value;
}
