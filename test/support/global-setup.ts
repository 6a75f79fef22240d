import { execFileSync } from 'node:child_process';

/** Fails the e2e run early, with a clear message, when redis-server is not installed. */
export default async function globalSetup(): Promise<void> {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('The e2e tests need redis-server on PATH (apt-get install redis-server).');
  }
}
