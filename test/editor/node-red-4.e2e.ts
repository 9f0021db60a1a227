import { nodeRed4 } from '../../scripts/lib/node-red-process';
import { describeEditor } from './editor-suite';

describeEditor('Node-RED 4.1 on Node.js 20', nodeRed4, { docs: false, darkScheme: false });
