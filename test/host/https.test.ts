// `npm start -- --https`, like `func start --useHttps`: a self-signed certificate for 127.0.0.1, ::1 and localhost,
// created once in <app-dir>/.certs/ and reused, served by the host, and trusted by Node.js clients the way the
// banner says (NODE_EXTRA_CA_CERTS).
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'node:tls';
import { generate } from 'selfsigned';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ensureDevelopmentCertificate } from '../../src/host/certificates.js';
import { nodeRequest, startHostProcess, withTimeout } from '../support/index.js';
import { fixtureDir, fixtureEnv } from './fixture.js';

const DAY_MS = 86_400_000;

/** A certificate made here (not by the code under test), for 127.0.0.1, ::1 and localhost unless told otherwise. */
async function certificateValidFor(days: number, names = { dns: ['localhost'], ips: ['127.0.0.1', '::1'] }) {
  const notBeforeDate = new Date(Date.now() - 60_000);
  return generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(Date.now() + days * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...names.dns.map((value) => ({ type: 2 as const, value })),
          ...names.ips.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
}

/** Days from now until the certificate in PEM expires. */
function daysLeft(pem: string): number {
  return (Date.parse(new X509Certificate(pem).validTo) - Date.now()) / DAY_MS;
}

/** The certificate a TLS server presents (trusting `ca`), as a SHA-256 fingerprint. */
function servedFingerprint(url: string, ca: string | Buffer): Promise<string> {
  const { hostname, port } = new URL(url);
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port), ca }, () => {
        const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
        socket.end();
        resolve(fingerprint);
      });
      socket.on('error', reject);
    }),
    10_000,
    'TLS handshake',
  );
}

describe('ensureDevelopmentCertificate', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'dev-cert-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a certificate for 127.0.0.1, ::1 and localhost once, and reuses it after', async () => {
    const created = await ensureDevelopmentCertificate(dir);
    expect(created).toMatchObject({
      created: true,
      certPath: path.join(dir, 'cert.pem'),
      keyPath: path.join(dir, 'key.pem'),
    });
    expect(readFileSync(created.certPath, 'utf8')).toBe(created.cert);
    expect(readFileSync(created.keyPath, 'utf8')).toBe(created.key);
    if (process.platform !== 'win32') expect(statSync(created.keyPath).mode & 0o777).toBe(0o600);

    const x509 = new X509Certificate(created.cert);
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x509.checkIP('::1')).toBeDefined();
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkHost('example.com')).toBeUndefined();
    expect(x509.checkIP('10.0.0.1')).toBeUndefined();
    // Its own issuer, so a client trusts it as a CA; valid for about 13 months.
    expect(x509.ca).toBe(true);
    expect(x509.checkIssued(x509)).toBe(true);
    expect(x509.checkPrivateKey(createPrivateKey(created.key))).toBe(true);
    expect(daysLeft(created.cert)).toBeGreaterThan(390);
    expect(daysLeft(created.cert)).toBeLessThanOrEqual(397);

    const modified = statSync(created.certPath).mtimeMs;
    const again = await ensureDevelopmentCertificate(dir);
    expect(again).toMatchObject({ created: false, cert: created.cert, key: created.key });
    expect(statSync(created.certPath).mtimeMs).toBe(modified);
  });

  it('replaces a certificate that expires within a month, and keeps one that does not', async () => {
    const certPath = path.join(dir, 'cert.pem');
    const keyPath = path.join(dir, 'key.pem');
    const later = await certificateValidFor(40);
    writeFileSync(certPath, later.cert);
    writeFileSync(keyPath, later.private);
    expect(await ensureDevelopmentCertificate(dir)).toMatchObject({ created: false, cert: later.cert });

    const soon = await certificateValidFor(20);
    writeFileSync(certPath, soon.cert);
    writeFileSync(keyPath, soon.private);
    const renewed = await ensureDevelopmentCertificate(dir);
    expect(renewed.created).toBe(true);
    expect(renewed.cert).not.toBe(soon.cert);
    expect(daysLeft(renewed.cert)).toBeGreaterThan(390);
    expect(readFileSync(certPath, 'utf8')).toBe(renewed.cert);
    expect(readFileSync(keyPath, 'utf8')).toBe(renewed.key);
  });

  it('replaces a certificate or key that is unreadable, missing, foreign or for other names', async () => {
    const certPath = path.join(dir, 'cert.pem');
    const keyPath = path.join(dir, 'key.pem');
    const good = await ensureDevelopmentCertificate(dir);
    const other = await certificateValidFor(200);
    const elsewhere = await certificateValidFor(200, { dns: ['example.test'], ips: [] });
    const damage: Record<string, () => void> = {
      'garbage in cert.pem': () => writeFileSync(certPath, 'not a certificate'),
      'garbage in key.pem': () =>
        writeFileSync(keyPath, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
      'no key.pem': () => rmSync(keyPath),
      'no cert.pem': () => rmSync(certPath),
      'a key of another certificate': () => writeFileSync(keyPath, other.private),
      'a certificate for other names': () => {
        writeFileSync(certPath, elsewhere.cert);
        writeFileSync(keyPath, elsewhere.private);
      },
    };
    let previous = good.cert;
    for (const [what, harm] of Object.entries(damage)) {
      harm();
      const replaced = await ensureDevelopmentCertificate(dir);
      expect(replaced.created, what).toBe(true);
      expect(replaced.cert, what).not.toBe(previous);
      expect(
        new X509Certificate(readFileSync(certPath)).checkPrivateKey(createPrivateKey(readFileSync(keyPath))),
        what,
      ).toBe(true);
      previous = replaced.cert;
    }
  });
});

describe('npm start -- --https', () => {
  const certDir = path.join(fixtureDir, '.certs');
  beforeEach(() => {
    rmSync(certDir, { recursive: true, force: true });
  });
  afterEach(() => {
    rmSync(certDir, { recursive: true, force: true });
  });

  it('creates the certificate on first start, serves https with it, and reuses it on the next start', async () => {
    const env = fixtureEnv();
    const first = await startHostProcess({ appDir: fixtureDir, env, args: ['--https'] });
    expect(first.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(first.output()).toContain(
      'Created the self-signed HTTPS certificate .certs/cert.pem (127.0.0.1, localhost).',
    );
    // The hint names the file relative to where npm start runs (the app folder).
    const hint = await first.waitForLine(/NODE_EXTRA_CA_CERTS=/, 5000);
    expect(hint).toContain('NODE_EXTRA_CA_CERTS=.certs/cert.pem');
    const certPath = path.join(fixtureDir, '.certs', 'cert.pem');
    expect(existsSync(certPath)).toBe(true);
    const cert = readFileSync(certPath);
    const x509 = new X509Certificate(cert);
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x509.checkHost('localhost')).toBe('localhost');

    // Trusting the certificate, a request gets through, and the function sees an https URL.
    const echo = await nodeRequest(`${first.url}/api/echo?x=1`, { ca: cert });
    expect(echo.status, echo.text).toBe(200);
    expect(z.object({ url: z.string() }).parse(JSON.parse(echo.text)).url).toBe(`${first.url}/api/echo?x=1`);
    expect(await servedFingerprint(first.url, cert)).toBe(x509.fingerprint256);
    // Without it, the certificate is refused — by node:https and by fetch alike.
    await expect(nodeRequest(`${first.url}/api/echo`)).rejects.toMatchObject({
      code: expect.stringMatching(/SELF_SIGNED_CERT/),
    });
    const refused = await fetch(`${first.url}/api/echo`, { signal: AbortSignal.timeout(10_000) }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ cause: { code: expect.stringMatching(/SELF_SIGNED_CERT/) } });
    // With the banner's hint, a separate Node.js process trusts it (fetch, as the Graph SDKs use).
    const script = `fetch(${JSON.stringify(`${first.url}/api/echo`)}).then((r) => console.log(r.status))`;
    const child = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(
        process.execPath,
        ['-e', script],
        { cwd: fixtureDir, env: { ...process.env, NODE_EXTRA_CA_CERTS: '.certs/cert.pem' }, timeout: 15_000 },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout, stderr }),
      );
    });
    expect(child.stdout.trim()).toBe('200');

    const exit = await first.stop('SIGTERM');
    expect(exit.code).toBe(0);

    const second = await startHostProcess({ appDir: fixtureDir, env, args: ['--https'] });
    expect(second.output()).toContain(
      'Using the self-signed HTTPS certificate .certs/cert.pem (127.0.0.1, localhost).',
    );
    expect(second.output()).not.toContain('Created the self-signed');
    expect(readFileSync(certPath).equals(cert)).toBe(true);
    expect(await servedFingerprint(second.url, cert)).toBe(x509.fingerprint256);
    expect((await nodeRequest(`${second.url}/api/echo`, { ca: cert })).status).toBe(200);
  });

  it('serves plain http without --https, and creates no certificate', async () => {
    const host = await startHostProcess({ appDir: fixtureDir, env: fixtureEnv() });
    expect(host.url).toMatch(/^http:\/\//);
    expect(host.output()).not.toMatch(/self-signed|NODE_EXTRA_CA_CERTS/);
    expect((await nodeRequest(`${host.url}/api/echo`)).status).toBe(200);
    expect(existsSync(certDir)).toBe(false);
  });
});
