import type { RedisClient } from '../redis';

/** Called once per command when its reply (or error) arrives. */
export type CommandObserver = (command: string, durationSeconds: number, failed: boolean) => void;

interface ObservableCommand {
  name: string;
  promise: Promise<unknown>;
}

type SendCommand = (command: ObservableCommand, ...rest: unknown[]) => unknown;

const OBSERVED = Symbol('nest-redis-kit:metrics:observed');

/**
 * Times every command sent on `client` by wrapping its `sendCommand` (the path every ioredis
 * command, pipelined or not, takes). A command that passes through several times (offline queue,
 * cluster redirection) is timed once, from its first send to its reply; `skip()` true at send time leaves
 * it out. Returns the function that removes the wrapper.
 */
export function instrumentClient(client: RedisClient, observe: CommandObserver, skip?: () => boolean): () => void {
  const target = client as unknown as { sendCommand: SendCommand };
  const original = target.sendCommand;
  const hadOwn = Object.prototype.hasOwnProperty.call(target, 'sendCommand');
  const wrapped: SendCommand = function (this: unknown, command, ...rest) {
    const c = command as ObservableCommand & { [OBSERVED]?: true };
    if (c && !c[OBSERVED] && c.promise && !skip?.()) {
      c[OBSERVED] = true;
      const started = performance.now();
      const done = (failed: boolean) => observe(c.name, (performance.now() - started) / 1000, failed);
      c.promise.then(
        () => done(false),
        () => done(true),
      );
    }
    return original.call(this, command, ...rest);
  };
  target.sendCommand = wrapped;
  return () => {
    if (target.sendCommand !== wrapped) return;
    if (hadOwn) target.sendCommand = original;
    else delete (target as Partial<typeof target>).sendCommand;
  };
}
