import { onOutput } from '../../scripts/lib/output-tap';
import { registeredSecrets, SecretScanner } from './secrets';

/**
 * Promise 8 of the reliability issue, across every suite of a run: the suites' secrets
 * (see `secret()`) never appear in anything the run produced. A mocha root-hook plugin
 * (.mocharc `require`), so it sees the whole run:
 * - everything written to this process's stdout and stderr (mocha's report, logs);
 * - everything the child processes printed (local servers, Node-RED, n8n), via the
 *   output tap of scripts/lib;
 * - in Node-RED helper tests, every status, log line (log/warn/error/debug/trace) and
 *   message a node sent (what the Debug sidebar would show): see node-red-helper.ts;
 * - in n8n tests, every item a node emitted or returned and everything it logged.
 * The run fails in the root "after all" hook when a secret was seen (masked in the report).
 */
export const scanner = new SecretScanner(registeredSecrets);

function tapStream(stream: NodeJS.WriteStream, source: string): void {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = (chunk: unknown, ...rest: unknown[]) => {
    scanner.text(source, typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '');
    return write(chunk, ...rest);
  };
}

tapStream(process.stdout, 'stdout');
tapStream(process.stderr, 'stderr');
onOutput((source, text) => scanner.text(source, text));

export const mochaHooks = {
  afterAll(): void {
    const sources = [...scanner.seen].map(([source, chars]) => `${source} ${chars}`).join(', ');
    if (scanner.hits.length > 0) {
      const report = scanner.hits
        .slice(0, 20)
        .map((hit) => `  [${hit.source}] …${hit.excerpt.replace(/\s+/g, ' ')}…`)
        .join('\n');
      throw new Error(`a secret of the suites appeared in their output (${scanner.hits.length} times):\n${report}\n(scanned: ${sources})`);
    }
    if (process.env.ROBOFLOW_SCAN_REPORT === '1') process.stdout.write(`secret scan: ${registeredSecrets().length} secrets, none found in ${sources}\n`);
  },
};
