import type { Logger } from '@nestjs/common';

/**
 * A Nest `Logger` stand-in for unit tests: every line lands in `lines` as `<level> <message>`
 * (levels `log`, `warn`, `error`, `debug`).
 */
export function recordingLogger(): { lines: string[]; logger: Logger } {
  const lines: string[] = [];
  const record = (level: string) => (message: unknown) => void lines.push(`${level} ${String(message)}`);
  const logger = { log: record('log'), warn: record('warn'), error: record('error'), debug: record('debug') };
  return { lines, logger: logger as unknown as Logger };
}
