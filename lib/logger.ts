import { redact } from './redact';

/**
 * The engine logs through whatever the platform gives it (Node-RED's node.log, n8n's
 * logger, console in scripts). Every line passes through `redact` first.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Wraps a platform logger so that nothing it receives can carry a secret. */
export function safeLogger(logger: Logger | undefined): Logger {
  if (!logger) return silentLogger;
  return {
    debug: (message) => logger.debug(redact(message)),
    info: (message) => logger.info(redact(message)),
    warn: (message) => logger.warn(redact(message)),
    error: (message) => logger.error(redact(message)),
  };
}
