import type { Node } from 'node-red';

/**
 * One status vocabulary for every node: yellow while connecting or retrying, green
 * when live or done, blue while busy, grey when idle or stopped, red only for errors
 * the user must act on. Dots for ongoing states, rings for the rest.
 */
export type StatusKind = 'connecting' | 'retrying' | 'live' | 'busy' | 'done' | 'idle' | 'error';

const STYLE: Record<StatusKind, { fill: 'red' | 'green' | 'yellow' | 'blue' | 'grey'; shape: 'ring' | 'dot' }> = {
  connecting: { fill: 'yellow', shape: 'ring' },
  retrying: { fill: 'yellow', shape: 'ring' },
  live: { fill: 'green', shape: 'dot' },
  busy: { fill: 'blue', shape: 'dot' },
  done: { fill: 'green', shape: 'ring' },
  idle: { fill: 'grey', shape: 'ring' },
  error: { fill: 'red', shape: 'ring' },
};

/** Status text is kept short: the editor shows one line under the node (long enough for "workspace stream limit reached (10), retrying (100)"). */
export const MAX_STATUS_TEXT = 56;

export function showStatus(node: Node, kind: StatusKind, text: string): void {
  const short = text.length > MAX_STATUS_TEXT ? `${text.slice(0, MAX_STATUS_TEXT - 1)}…` : text;
  node.status({ ...STYLE[kind], text: short });
}
