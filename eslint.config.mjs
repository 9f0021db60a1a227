// n8n's community-node lint (what `npx n8n-node lint` runs), scoped to the n8n side of
// this package. Run it with `npm run lint:n8n` (it installs the tooling on first use).
import { createRequire } from 'node:module';

// The tooling lives in tools/n8n-lint (see its package.json for why).
const require = createRequire(new URL('./tools/n8n-lint/package.json', import.meta.url));
const { configWithoutCloudSupport } = require('@n8n/node-cli/eslint');

export default [
  {
    // Only the n8n nodes, their credential and package.json are n8n's business: the
    // engine, the Node-RED nodes, the local server and the tests follow their own rules.
    ignores: [
      'dist/**',
      'lib/**',
      'server/**',
      'nodes/node-red/**',
      'test/**',
      'scripts/**',
      'bench/**',
      'tools/**',
      'examples/**',
      'workflows/**',
      'node_modules/**',
      '.node-red/**',
      '.tmp/**',
      '*.mjs',
    ],
  },
  ...configWithoutCloudSupport,
  {
    // Written override: this package cannot have zero runtime dependencies. Live streams
    // need WebRTC, which in Node.js is the native @roamhq/wrtc (it cannot be bundled);
    // images need sharp (native libvips); undici is the HTTP client the engine shares
    // with the Node-RED nodes. So the package is for self-hosted n8n (installed from
    // Settings > Community Nodes, which installs dependencies), not for n8n Cloud's
    // verified list. See README "n8n".
    files: ['package.json'],
    rules: { '@n8n/community-nodes/no-runtime-dependencies': 'off' },
  },
];
