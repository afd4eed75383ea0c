/**
 * Certificate authorities and server certificates made at test time with the openssl CLI (node:crypto cannot issue
 * X.509 certificates), for real https servers on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Whether the openssl CLI can be run here (tests that need it skip with a message otherwise). */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface TestCa {
  name: string;
  /** Path of the CA certificate (PEM). */
  certFile: string;
  cert: string;
}

/** A self-signed CA named `name` in `dir` (files <name>.pem and <name>.key). */
export function makeCa(dir: string, name: string): TestCa {
  openssl(dir, [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const certFile = path.join(dir, `${name}.pem`);
  return { name, certFile, cert: readFileSync(certFile, 'utf8') };
}

/** A server certificate for 127.0.0.1 signed by `ca`: { key, cert } ready for https.createServer. */
export function makeServerCert(dir: string, ca: TestCa, name: string): { key: string; cert: string } {
  writeFileSync(
    path.join(dir, `${name}.ext`),
    'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  openssl(dir, ['req', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=127.0.0.1']);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca.name}.pem`,
    '-CAkey',
    `${ca.name}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
  return {
    key: readFileSync(path.join(dir, `${name}.key`), 'utf8'),
    cert: readFileSync(path.join(dir, `${name}.pem`), 'utf8'),
  };
}
