/**
 * A throw-away self-signed TLS certificate for tests, made with openssl in a
 * temporary directory (EC P-256, valid one day, subjectAltName = the given IP).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  keyPath: string;
  certPath: string;
  /** Removes the directory. Idempotent. */
  remove(): void;
}

/** Why a certificate cannot be made here, or null. */
export function opensslUnavailableReason(): string | null {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'openssl is not installed (apt-get install -y openssl)';
  }
}

/** A key and a self-signed certificate for `ip` (its subjectAltName). */
export function selfSignedCert(ip: string): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'tv-tls-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=tcp-vitals-test', '-addext', `subjectAltName=IP:${ip}`],
    { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { keyPath, certPath, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
