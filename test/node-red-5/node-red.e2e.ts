import { nodeRed5 } from '../../scripts/lib/node-red-process';
import { describeRealNodeRed } from '../e2e/real-node-red';

// The suite npm test runs on Node-RED 4.1, here on Node-RED 5 and Node.js 24 from the
// registry (tools/node-red-5, installed on first use).
describeRealNodeRed('Node-RED 5 on Node.js 24', nodeRed5);
