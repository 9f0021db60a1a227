import { nodeRed4 } from '../../scripts/lib/node-red-process';
import { describeRealNodeRed } from './real-node-red';

// Node-RED 4.1 on the machine's Node.js 20 (npm test). Node-RED 5 on Node.js 24 runs the
// same suite in its own tier: npm run test:node-red-5.
describeRealNodeRed('Node-RED 4.1 on Node.js 20', nodeRed4);
