/**
 * The certificate authorities an https:// orchestrator is checked against: the ones Node trusts anyway, plus
 * ca_file. Node's `ca` option REPLACES the default list, so passing only ca_file (as this worker once did) made every
 * publicly signed orchestrator, and every CA from NODE_EXTRA_CA_CERTS, untrusted.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { ConfigError } from '../errors.js';

type GetCaCertificates = (type: 'default') => string[];

/**
 * What Node trusts when no `ca` is given. Node 22.15+/23.5+ says so itself (tls.getCACertificates('default'):
 * bundled roots, NODE_EXTRA_CA_CERTS and, with --use-system-ca, the OS store); on older Node it is the bundled roots
 * plus the NODE_EXTRA_CA_CERTS file, which Node reads the same way at start-up.
 */
export function defaultCaCertificates(env: NodeJS.ProcessEnv = process.env): string[] {
  const getCaCertificates = (tls as unknown as { getCACertificates?: GetCaCertificates }).getCACertificates;
  if (typeof getCaCertificates === 'function') return getCaCertificates('default');
  const out = [...tls.rootCertificates];
  const extraFile = env.NODE_EXTRA_CA_CERTS;
  if (extraFile) {
    try {
      out.push(readFileSync(extraFile, 'utf8'));
    } catch {
      // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS; do the same (by trusting what remains).
    }
  }
  return out;
}

/** undefined without ca_file (Node's defaults apply); otherwise the defaults followed by ca_file's PEM bundle. */
export function trustedCas(caFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  if (!caFile) return undefined;
  let pem: string;
  try {
    pem = readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new ConfigError(`invalid ca_file = "${caFile}": cannot read it (${(err as NodeJS.ErrnoException).code})`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new ConfigError(`invalid ca_file = "${caFile}": expected PEM certificates ("-----BEGIN CERTIFICATE-----")`);
  return [...defaultCaCertificates(env), pem];
}
