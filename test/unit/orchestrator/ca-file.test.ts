/**
 * ca_file ADDS to the certificate authorities Node trusts; it does not replace them. Real https servers on 127.0.0.1
 * with CAs made at test time: one signed by the ca_file CA, and one signed by a CA that Node trusts through
 * NODE_EXTRA_CA_CERTS (standing in for the public roots, which cannot be reached from a test).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrchestratorClient } from '../../../src/orchestrator/client.js';
import { trustedCas } from '../../../src/orchestrator/trusted-cas.js';
import { ConfigError, TransientOrchestratorError } from '../../../src/errors.js';
import { REPO_ROOT } from '../../helpers/worker-process.js';
import { hasOpenssl, makeCa, makeServerCert, type TestCa } from '../../helpers/tls-certs.js';

const opensslHere = hasOpenssl();
if (!opensslHere) console.warn('ca_file tests skipped: the openssl CLI is not installed');

let dir: string;
let systemCa: TestCa;
let fileCa: TestCa;
const servers: https.Server[] = [];

async function httpsServer(cert: { key: string; cert: string }): Promise<string> {
  const server = https.createServer(cert, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ack":true}');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const caps = { supported_codecs: ['libx264'], has_gpu: false, gpu_type: 'none' as const, max_resolution: '1080p' };

beforeAll(() => {
  if (!opensslHere) return;
  return (async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tw-ca-'));
    systemCa = makeCa(dir, 'system-ca');
    fileCa = makeCa(dir, 'file-ca');
  })();
});
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!opensslHere)('ca_file', () => {
  it('trusts an orchestrator signed by the ca_file CA, and still refuses an unknown one', async () => {
    const url = await httpsServer(makeServerCert(dir, fileCa, 'by-file-ca'));
    const c = createOrchestratorClient({ baseUrl: url, workerId: 'w1', timeoutMs: 5000, caFile: fileCa.certFile });
    await expect(c.register(caps)).resolves.toBeUndefined();
    const other = makeCa(dir, 'unknown-ca');
    const url2 = await httpsServer(makeServerCert(dir, other, 'by-unknown-ca'));
    const c2 = createOrchestratorClient({ baseUrl: url2, workerId: 'w1', timeoutMs: 5000, caFile: fileCa.certFile });
    await expect(c2.register(caps)).rejects.toBeInstanceOf(TransientOrchestratorError);
  });

  it('keeps every CA Node trusts by default (its bundled roots) and adds the ca_file bundle', () => {
    const list = trustedCas(fileCa.certFile, {})!;
    expect(list.slice(0, tls.rootCertificates.length)).toEqual([...tls.rootCertificates]);
    expect(list.at(-1)).toBe(fileCa.cert);
  });

  it('with ca_file set, an orchestrator signed by a CA Node already trusts (NODE_EXTRA_CA_CERTS) is still trusted', async () => {
    const url = await httpsServer(makeServerCert(dir, systemCa, 'by-system-ca'));
    // NODE_EXTRA_CA_CERTS is read when Node starts, so the client runs in a fresh Node process.
    const script = path.join(dir, 'register.ts');
    const clientUrl = pathToFileURL(path.join(REPO_ROOT, 'src', 'orchestrator', 'client.ts')).href;
    await writeFile(
      script,
      `import { createOrchestratorClient } from ${JSON.stringify(clientUrl)};
const c = createOrchestratorClient({ baseUrl: ${JSON.stringify(url)}, workerId: 'w1', timeoutMs: 5000, caFile: ${JSON.stringify(fileCa.certFile)} });
c.register(${JSON.stringify(caps)}).then(() => console.log('REGISTERED'), (err) => console.log('FAILED: ' + err.message));
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: systemCa.certFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(out.trim()).toBe('REGISTERED');
    expect(code).toBe(0);
  }, 30_000);

  it('refuses a ca_file that is not PEM, naming the key', async () => {
    const bad = path.join(dir, 'not-pem.der');
    await writeFile(bad, Buffer.from([0x30, 0x82, 0x01, 0x0a]));
    expect(() => trustedCas(bad)).toThrow(ConfigError);
    expect(() => trustedCas(bad)).toThrow(`invalid ca_file = "${bad}": expected PEM certificates`);
  });
});
