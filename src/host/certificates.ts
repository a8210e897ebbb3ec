// The development certificate of `npm start -- --https`, like `func start --useHttps`: self-signed for 127.0.0.1 and
// localhost, created once and kept (so a client told to trust it keeps trusting it across restarts).
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface DevelopmentCertificate {
  /** PEM of the certificate; also what a client adds to its trusted CAs (NODE_EXTRA_CA_CERTS). */
  readonly cert: string;
  /** PEM of the private key. */
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** True when this call created the files. */
  readonly created: boolean;
}

const NAMES = { dns: ['localhost'], ips: ['127.0.0.1', '::1'] };
/** Renewed a month before it expires, so a running host never serves an expired certificate. */
const RENEW_BEFORE_MS = 30 * 86_400_000;

/**
 * The certificate in `dir` (`cert.pem`, `key.pem`), created when missing, unreadable, expiring within a month or not
 * covering 127.0.0.1 and localhost. Files are written to temporary names first and renamed, so two hosts starting at
 * once never read half a file.
 */
export async function ensureDevelopmentCertificate(dir: string): Promise<DevelopmentCertificate> {
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  const existing = readUsable(certPath, keyPath);
  if (existing) return { ...existing, certPath, keyPath, created: false };

  const notBeforeDate = new Date(Date.now() - 60_000);
  // 397 days: the longest validity browsers accept for a server certificate.
  const notAfterDate = new Date(notBeforeDate.getTime() + 397 * 86_400_000);
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      // Its own issuer: trusted directly as a CA by NODE_EXTRA_CA_CERTS.
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...NAMES.dns.map((value) => ({ type: 2 as const, value })),
          ...NAMES.ips.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  mkdirSync(dir, { recursive: true });
  const suffix = `.${process.pid}.tmp`;
  writeFileSync(`${keyPath}${suffix}`, pems.private, { mode: 0o600 });
  writeFileSync(`${certPath}${suffix}`, pems.cert);
  renameSync(`${keyPath}${suffix}`, keyPath);
  renameSync(`${certPath}${suffix}`, certPath);
  return { cert: pems.cert, key: pems.private, certPath, keyPath, created: true };
}

function readUsable(certPath: string, keyPath: string): { cert: string; key: string } | undefined {
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  try {
    const cert = readFileSync(certPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    const x509 = new X509Certificate(cert);
    if (Date.parse(x509.validTo) - Date.now() < RENEW_BEFORE_MS) return undefined;
    const covered =
      NAMES.dns.every((name) => x509.checkHost(name) !== undefined) &&
      NAMES.ips.every((ip) => x509.checkIP(ip) !== undefined);
    if (!covered || !x509.checkPrivateKey(createPrivateKey(key))) return undefined;
    return { cert, key };
  } catch {
    return undefined;
  }
}
