import { EventEmitter } from 'node:events';

/**
 * A typed event emitter. Two differences from Node's: an `error` event with no
 * listener is reported to `onUnhandledError` instead of crashing the process, and a
 * listener that throws cannot break the engine's internal loop (the throw is reported
 * the same way).
 */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  private readonly emitter = new EventEmitter();

  constructor(private readonly onUnhandledError: (error: unknown) => void = () => undefined) {
    this.emitter.setMaxListeners(50);
  }

  on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  removeAllListeners(): this {
    this.emitter.removeAllListeners();
    return this;
  }

  listenerCount(event: keyof Events & string): number {
    return this.emitter.listenerCount(event);
  }

  /** Resolves with the arguments of the next `event` (rejects after `timeoutMs`). */
  next<K extends keyof Events & string>(event: K, timeoutMs = 30_000): Promise<Events[K]> {
    return new Promise((resolve, reject) => {
      const listener = (...args: Events[K]): void => {
        clearTimeout(timer);
        resolve(args);
      };
      const timer = setTimeout(() => {
        this.off(event, listener);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for "${event}"`));
      }, timeoutMs);
      this.once(event, listener);
    });
  }

  protected emit<K extends keyof Events & string>(event: K, ...args: Events[K]): boolean {
    if (event === 'error' && this.emitter.listenerCount('error') === 0) {
      this.onUnhandledError(args[0]);
      return false;
    }
    try {
      return this.emitter.emit(event, ...args);
    } catch (error) {
      this.onUnhandledError(error);
      return true;
    }
  }
}
