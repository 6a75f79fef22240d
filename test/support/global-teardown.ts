/** Nothing to do: every harness process is killed by its test, or by the reaper when the test process dies. */
export default async function globalTeardown(): Promise<void> {}
