import type { Node, NodeMessage } from 'node-red';
import { redact, toRoboflowError, type Logger, type RoboflowError } from '../../../lib';
import { showStatus } from './status';

/** The short form of an error for a status ring: "API key rejected (401)". */
export function statusText(error: RoboflowError): string {
  const colon = error.message.indexOf(':');
  return colon > 10 && colon < 60 ? error.message.slice(0, colon) : error.message;
}

/**
 * The one error path of the Node-RED adapters: red status with the short form, the
 * full message (redacted) to the log and to Catch nodes through node.error(msg, msg).
 * Returns the error so `done(error)` can be called when a message is in flight.
 */
export function reportError(node: Node, caught: unknown, msg?: NodeMessage): RoboflowError {
  const error = toRoboflowError(caught);
  showStatus(node, 'error', statusText(error));
  const message = redact(error.message);
  if (msg) node.error(message, { ...msg, error: { message, code: error.code, source: { id: node.id, type: node.type, name: node.name } } });
  else node.error(message);
  return error;
}

/** An error for `done(error)`: Node-RED logs it and routes it to Catch nodes with the message. */
export function asError(error: RoboflowError): Error {
  const result = new Error(redact(error.message));
  result.name = 'RoboflowError';
  return result;
}

/**
 * The engine's log lines for a node. `quiet`: the node says what the user must know
 * itself (once per outage), so the engine's warnings and errors go to Node-RED's log
 * rather than the Debug sidebar; nothing is dropped either way.
 */
export function engineLogger(node: Node, options: { quiet?: boolean } = {}): Logger {
  return {
    debug: (message) => node.debug(message),
    info: (message) => node.log(message),
    warn: (message) => (options.quiet ? node.log(`warning: ${message}`) : node.warn(message)),
    error: (message) => (options.quiet ? node.log(`error: ${message}`) : node.error(message)),
  };
}
