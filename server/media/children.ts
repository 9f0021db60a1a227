import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * Every child process the server starts (ffmpeg decoders, cameras, MJPEG streams,
 * video writers), so that they end with the server: on close, on SIGTERM/SIGINT, and on
 * the uncaught-error path, where nothing else would stop an ffmpeg that writes to UDP.
 */
const running = new Set<ChildProcess>();

/** `spawn`, remembered until the child exits. */
export function spawnChild(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, options);
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.once('error', () => running.delete(child));
  return child;
}

/** Kills every child still running (synchronous: safe in an `exit` handler). */
export function killAllChildren(): void {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  running.clear();
}

/** How many children are running (for the health answer and tests). */
export function runningChildren(): number {
  return running.size;
}
