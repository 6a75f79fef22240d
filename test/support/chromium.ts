/**
 * Headless Chromium for the browser tests (Swagger UI, the operations page): CHROMIUM_PATH, else `chromium` or
 * `chromium-browser` on PATH (Debian's package, installed by .ci/run). Without one the browser tests are skipped
 * (one line says how to enable them), except under CI=true, where they fail.
 */
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Screenshots and other test output (gitignored). */
export const ARTIFACTS = join(__dirname, '..', 'artifacts');

/** The Chromium to drive: CHROMIUM_PATH, else `chromium` or `chromium-browser` on PATH; undefined when none. */
export function findChromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of ['chromium', 'chromium-browser']) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** The Chromium found, if any. */
export const CHROMIUM = findChromium();

/** What to do when there is none. */
export const ENABLE_BROWSER = 'install Chromium (apt-get install chromium) or set CHROMIUM_PATH';

/**
 * `it` when a Chromium is there (or under CI=true, where a missing one fails the test), `it.skip` otherwise, with one
 * line on stderr saying so.
 * @param suite the suite's name, for that line
 */
export function browserIt(suite: string): jest.It {
  if (!CHROMIUM && process.env.CI !== 'true') {
    process.stderr.write(`${suite}: browser test skipped, no Chromium found: ${ENABLE_BROWSER}\n`);
    return it.skip;
  }
  return it;
}

/** Runs `work` in a fresh headless Chromium profile, closed and removed afterwards. */
export async function withChromium<T>(work: (context: BrowserContext) => Promise<T>): Promise<T> {
  if (!CHROMIUM || !existsSync(CHROMIUM)) {
    throw new Error(`No Chromium (${CHROMIUM ?? 'none on PATH'}): ${ENABLE_BROWSER}`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'nrk-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    return await work(context);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
