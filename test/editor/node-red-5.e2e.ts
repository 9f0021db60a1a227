import { nodeRed5 } from '../../scripts/lib/node-red-process';
import { describeEditor } from './editor-suite';

// The README's screenshots come from here: Node-RED 5 is what a new user installs.
describeEditor('Node-RED 5 on Node.js 24', nodeRed5, { docs: true, darkScheme: true });
