/**
 * Cleanup on crash: a detached shell, started once per process, that waits for this process to end (however it
 * ends, SIGKILL included) and then kills every process and removes every directory still registered with it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** The reaper's lists (pids to kill, then directories to remove) and what this process last wrote in them. */
interface Reaper {
  dir: string;
  pidsFile: string;
  dirsFile: string;
  pids: Set<number>;
  dirs: Set<string>;
}

let reaper: Reaper | undefined;

/** Starts (once per process) the detached shell that cleans up after this process. */
function ensureReaper(): Reaper {
  if (reaper) return reaper;
  const dir = mkdtempSync(join(tmpdir(), 'nrk-reaper-'));
  const state: Reaper = {
    dir,
    pidsFile: join(dir, 'pids'),
    dirsFile: join(dir, 'dirs'),
    pids: new Set(),
    dirs: new Set(),
  };
  writeFileSync(state.pidsFile, '');
  writeFileSync(state.dirsFile, '');
  const script =
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
    `for p in $(cat '${state.pidsFile}'); do kill -9 $p 2>/dev/null; done; ` +
    `while IFS= read -r d; do [ -n "$d" ] && rm -rf "$d"; done < '${state.dirsFile}'; rm -rf '${dir}'`;
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
  reaper = state;
  return state;
}

/** Rewrites one list in one step (write a copy, rename it over), so the reaper never reads half a file. */
function writeList(state: Reaper, file: string, items: Iterable<number | string>): void {
  const copy = `${file}.next`;
  writeFileSync(copy, [...items].map((i) => `${i}\n`).join(''));
  renameSync(copy, file);
}

/**
 * Has the reaper kill process `pid` (SIGKILL) when this process ends, if it still runs then. The servers of this
 * entry register themselves; use it for any other helper process a test suite starts.
 * @param pid OS process id
 */
export function reapWithThisProcess(pid: number): void {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new RangeError(`reapWithThisProcess: not a process id: ${pid}`);
  const state = ensureReaper();
  state.pids.add(pid);
  writeList(state, state.pidsFile, state.pids);
}

/**
 * Has the reaper remove directory `dir` (recursively) when this process ends, after killing the processes: a
 * crashed test run leaves no temp dirs behind.
 * @param dir an absolute path, e.g. from `mkdtempSync`
 */
export function removeWithThisProcess(dir: string): void {
  if (!isAbsolute(dir) || /[\n\r]/.test(dir))
    throw new RangeError(`removeWithThisProcess: not an absolute path: ${dir}`);
  const state = ensureReaper();
  state.dirs.add(dir);
  writeList(state, state.dirsFile, state.dirs);
}

/**
 * Takes a process that has exited, or a directory that is gone, off the reaper's lists (so that a later process
 * given the same pid is never killed).
 */
export function releaseFromReaper(entry: { pid?: number; dir?: string }): void {
  if (!reaper) return;
  if (entry.pid !== undefined && reaper.pids.delete(entry.pid)) writeList(reaper, reaper.pidsFile, reaper.pids);
  if (entry.dir !== undefined && reaper.dirs.delete(entry.dir)) writeList(reaper, reaper.dirsFile, reaper.dirs);
}
