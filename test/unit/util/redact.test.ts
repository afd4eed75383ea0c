/**
 * The secret scrubbers: URL credentials and literal secrets masked in URLs, free text, JSON bodies and every log line,
 * including an axios error logged whole (it carries its request's Authorization header).
 */
import axios, { type AxiosError } from 'axios';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createScrubber, redactUrl, redactUrlsIn, scrubDeep, secretsOf } from '../../../src/util/redact.js';
import { createLogger } from '../../../src/log.js';
import { configSecrets } from '../../../src/config.js';

describe('redaction', () => {
  it('masks the user name and password of a URL, and nothing else', () => {
    expect(redactUrl('http://admin:pw@orch:8080/api')).toBe('http://[redacted]@orch:8080/api');
    expect(redactUrl('https://token@orch')).toBe('https://[redacted]@orch');
    expect(redactUrl('http://orch:8080')).toBe('http://orch:8080');
    expect(redactUrl('admin:pw@orch:8080')).toBe('[redacted]@orch:8080');
    expect(redactUrl('http://orch/login?next=a@b.c')).toBe('http://orch/login?next=a@b.c');
  });

  it('masks every URL credential in a text', () => {
    expect(redactUrlsIn('unreachable at http://a:b@x:1 (sync); see https://c:d@y/z and mailto:me@home')).toBe(
      'unreachable at http://[redacted]@x:1 (sync); see https://[redacted]@y/z and mailto:me@home',
    );
  });

  it('masks literal secrets in the forms they take in text, longest first, but not trivially short ones', () => {
    const secrets = secretsOf({ authToken: 'tok-"q"-9', urls: ['http://us%65r:p%40ss-1@x'] });
    expect(secrets).toEqual(expect.arrayContaining(['tok-"q"-9', 'tok-\\"q\\"-9', 'p%40ss-1', 'p@ss-1', 'user']));
    const scrub = createScrubber(secrets);
    expect(scrub('a tok-"q"-9 b {"t":"tok-\\"q\\"-9"} p@ss-1 user')).toBe(
      'a [redacted] b {"t":"[redacted]"} [redacted] [redacted]',
    );
    expect(secretsOf({ authToken: 'ab' })).toEqual([]);
    expect(scrubDeep({ a: ['x tok-"q"-9', 3, null], b: { c: 'http://u:p@h' } }, scrub)).toEqual({
      a: ['x [redacted]', 3, null],
      b: { c: 'http://[redacted]@h' },
    });
  });
});

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { stream, text: () => text };
}

describe('logger', () => {
  it('never writes the token or URL credentials, even for an axios error logged whole', async () => {
    const token = 'tok-S3cret-77';
    const url = 'http://admin:pw-S3cret-88@127.0.0.1:1';
    let axiosErr: AxiosError | undefined;
    try {
      await axios.post(
        'http://127.0.0.1:1/api/v1/workers/sync',
        {},
        { headers: { Authorization: `Bearer ${token}` }, proxy: false },
      );
    } catch (err) {
      axiosErr = err as AxiosError;
    }
    expect(axiosErr?.config?.headers?.Authorization).toBe(`Bearer ${token}`);

    // Without being told the secrets: the redact paths and URL scrubbing alone.
    const bare = sink();
    const log = createLogger({ level: 'debug', destination: bare.stream });
    log.error({ err: axiosErr }, 'sync failed');
    log.error({ error: axiosErr, request: { headers: { authorization: `Bearer ${token}` } } }, 'again');
    log.info({ auth_token: token, config: { auth_token: token } }, `orchestrator at ${url}`);
    expect(bare.text()).toContain('sync failed');
    expect(bare.text()).not.toContain(token);
    expect(bare.text()).not.toContain('pw-S3cret-88');

    // Told the secrets (as the CLI does): also in free text where no rule could know it is one.
    const told = sink();
    const log2 = createLogger({
      level: 'debug',
      destination: told.stream,
      secrets: configSecrets({ auth_token: token, orchestrator_url: url }),
    });
    log2.warn({ note: `token is ${token}`, pw: 'pw-S3cret-88' }, `Bearer ${token}`);
    expect(told.text()).toContain('[redacted]');
    expect(told.text()).not.toContain(token);
    expect(told.text()).not.toContain('pw-S3cret-88');
    for (const line of told.text().trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });
});
