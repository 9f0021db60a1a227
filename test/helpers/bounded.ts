import type { ChildProcess } from 'node:child_process';

/**
 * A request that never got an answer: undici's fetch rejects with TypeError "fetch failed"
 * when the connection is reset or refused (on a loaded machine, a kept-alive socket the
 * other side has just closed is reused). Any HTTP answer, even an error, is not this.
 */
export function isTransportFailure(error: unknown): boolean {
  return error instanceof TypeError && error.message === 'fetch failed';
}

/**
 * Runs an idempotent request again (at most `attempts` times in all) when it failed
 * without an answer; any other failure, and the last one, is thrown.
 */
export async function retryTransport<T>(run: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= attempts || !isTransportFailure(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/**
 * Stops a child process within `ms`: `stop()` (SIGTERM and wait) first, SIGKILL when it
 * has not exited by then. Never waits longer than `ms` plus a moment for the kill, so a
 * test's `after` hook cannot hang on a stuck process. Resolves to how it ended.
 */
export async function stopWithin(child: ChildProcess | undefined, stop: () => Promise<unknown>, ms = 15_000): Promise<'stopped' | 'killed' | 'gone'> {
  if (child?.exitCode !== null || child.signalCode !== null) return 'gone';
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    stop().then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  if (stopped) return 'stopped';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  return 'killed';
}
