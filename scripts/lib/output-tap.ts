/**
 * One place where the output of the processes our scripts and tests run (Node-RED, n8n,
 * the local server) can be observed as it arrives, e.g. by the test suite's secret scan.
 * Listeners must not throw; they see every chunk once, tagged with where it came from.
 */
export type OutputListener = (source: string, text: string) => void;

const listeners = new Set<OutputListener>();

export function onOutput(listener: OutputListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function tapOutput(source: string, text: string): void {
  for (const listener of listeners) listener(source, text);
}
