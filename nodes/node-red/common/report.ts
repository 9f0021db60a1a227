import type { Node, NodeMessage } from 'node-red';
import { redact, toRoboflowError, type Logger, type RoboflowError } from '../../../lib';
import { MAX_STATUS_TEXT, showStatus } from './status';

/** What fits on a status line (showStatus cuts longer text with an ellipsis). */
const STATUS_WIDTH = MAX_STATUS_TEXT;

/**
 * The short form of an error for a status ring. Messages read "what went wrong: what to
 * do (details)". One that fits is shown whole; a longer one keeps what went wrong and as
 * much of what to do as fits, cut only where a clause ends (before a parenthesis or a
 * semicolon, after a closing parenthesis): "ffmpeg not found: install it (apt install
 * ffmpeg)", "No worker within 30 s: a cold start or a busy service". When no clause of
 * the advice fits, what went wrong alone: "API key rejected (401)". Only the first
 * ": " outside parentheses counts, so a URL ("rtsp://…") or a list of what was tried
 * ("(FFMPEG_PATH: …)") is not taken for the end of the first clause. Redacted: the
 * advice may quote a camera URL.
 */
export function statusText(error: RoboflowError): string {
  const message = redact(error.message);
  if (message.length <= STATUS_WIDTH) return message;
  let colon = -1;
  let cut = -1;
  let depth = 0;
  // Where each clause could end, up to the width (a first clause may run to 60: the status then cuts it).
  const clauseEnd = (at: number): void => {
    if (colon >= 0 && at <= STATUS_WIDTH) cut = at;
  };
  for (let index = 0; index < Math.min(message.length, 60); index++) {
    const char = message[index];
    const next = message[index + 1] as string | undefined;
    if (char === '(') {
      if (depth === 0 && message[index - 1] === ' ') clauseEnd(index - 1);
      depth++;
    } else if (char === ')') {
      depth = Math.max(0, depth - 1);
      if (depth === 0 && (next === undefined || /[\s,;.]/.test(next))) clauseEnd(index + 1);
    } else if (depth === 0 && next === ' ' && (char === ':' || char === ';')) {
      if (colon < 0 && char === ':') colon = index;
      else clauseEnd(index);
    }
  }
  if (colon <= 10) return message;
  return cut > colon + 2 ? message.slice(0, cut) : message.slice(0, colon);
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
