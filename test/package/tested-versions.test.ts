import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { N8N_VERSION } from '../../scripts/lib/n8n-runtime';
import { NODE_RED_5_VERSION, REPO_ROOT, nodeRed4 } from '../../scripts/lib/node-red-process';
import { NODE_24_VERSION } from '../../scripts/lib/tools';

/**
 * The package claims what its suites run on, no more: Node-RED 4.1 on the machine's
 * Node.js 20 (npm test, the editor test), Node-RED 5 and n8n 2.41 on Node.js 24 from the
 * registry (test:node-red-5, test:editor, test:n8n-real, test:n8n-queue). Changing a
 * tested version fails here until package.json and the README say the same.
 */
describe('the versions the package states are the versions its tests run', () => {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { type: string; engines: { node: string }; 'node-red': { version: string } };
  // As a reader sees it: one space for every line break, no emphasis.
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ').replace(/\*/g, '');
  const major = (version: string): number => Number(version.split('.')[0]);
  const minor = (version: string): number => Number(version.split('.')[1]);

  it('is CommonJS, said outright (publint)', () => {
    assert.equal(manifest.type, 'commonjs');
  });

  it('engines.node: Node.js 20.19+ and 24, the two the suites run on', () => {
    assert.equal(manifest.engines.node, `^20.19.0 || ^${major(NODE_24_VERSION)}.0.0`);
  });

  it('node-red.version: Node-RED 4.1 and 5, the two the suites run (Node-RED refuses to load the package elsewhere)', () => {
    const tested4 = nodeRed4().nodeRedVersion;
    assert.equal(`${major(tested4)}.${minor(tested4)}`, '4.1');
    assert.equal(manifest['node-red'].version, `^4.1.0 || ^${major(NODE_RED_5_VERSION)}.0.0`);
  });

  it('the README says the same', () => {
    assert.ok(readme.includes(`Node-RED 4.1 on Node.js 20`), 'README: Node-RED 4.1 on Node.js 20');
    assert.ok(readme.includes(`Node-RED ${major(NODE_RED_5_VERSION)} on Node.js ${major(NODE_24_VERSION)}`), `README: Node-RED ${major(NODE_RED_5_VERSION)} on Node.js ${major(NODE_24_VERSION)}`);
    assert.ok(readme.includes(`n8n ${N8N_VERSION.split('.').slice(0, 2).join('.')} on Node.js ${major(NODE_24_VERSION)}`), `README: n8n ${N8N_VERSION} on Node.js ${major(NODE_24_VERSION)}`);
  });
});
