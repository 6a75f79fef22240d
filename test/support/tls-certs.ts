/**
 * Test-time TLS material made with the `openssl` CLI in a temp dir: a CA, a server certificate for
 * 127.0.0.1/localhost signed by it, and a second, unrelated CA (to test that a wrong CA is refused).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisServerTlsFiles } from './redis-harness';

/** Files and PEM contents made by {@link makeTlsFiles}. */
export interface TestTlsMaterial {
  /** Server cert/key and the CA that signed it, for `startRedis({ tls })`. */
  files: RedisServerTlsFiles;
  /** PEM of the CA that signed the server certificate. */
  ca: Buffer;
  /** PEM of another CA that did NOT sign it. */
  wrongCa: Buffer;
  /** Removes the temp dir. */
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function makeCa(dir: string, name: string): void {
  openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`].concat([
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
    ]),
    dir,
  );
}

/** Generates a CA, a server certificate (SAN IP:127.0.0.1, DNS:localhost) and an unrelated CA. */
export function makeTlsFiles(): TestTlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), 'nrk-tls-'));
  try {
    makeCa(dir, 'ca');
    makeCa(dir, 'wrong-ca');
    openssl(
      ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr'],
      dir,
    );
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '2',
      ].concat(['-extfile', 'ext.cnf', '-out', 'server.crt']),
      dir,
    );
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    files: { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key'), caFile: join(dir, 'ca.crt') },
    ca: readFileSync(join(dir, 'ca.crt')),
    wrongCa: readFileSync(join(dir, 'wrong-ca.crt')),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
