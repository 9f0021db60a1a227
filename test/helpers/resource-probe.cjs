'use strict';
/**
 * Loaded into a real Node-RED with `node --expose-gc --require` by the redeploy soak
 * test. It counts the WebRTC peer connections the installed package opens and closes,
 * and on SIGWINCH (Node-RED takes SIGUSR2 as "restart"; nothing uses SIGWINCH without a
 * terminal) writes what the process holds (peer connections, Node's active
 * handles and requests by type, RSS after a full GC) to ROBOFLOW_PROBE_FILE.
 * Plain CommonJS: Node-RED runs without the TypeScript loader.
 */
const { writeFileSync } = require('node:fs');

const wrtc = require(require.resolve('@roamhq/wrtc', { paths: [process.env.ROBOFLOW_PROBE_PACKAGE] }));
const closed = new WeakSet();
let opened = 0;
let closedCount = 0;
// ROBOFLOW_PROBE_LEAK_MB=n leaks n MB of native memory per peer connection, on purpose: it
// shows the soak test's RSS bound catches a leak of that size.
const leakBytes = Number(process.env.ROBOFLOW_PROBE_LEAK_MB || 0) * 1024 * 1024;
const leaked = [];
const Base = wrtc.RTCPeerConnection;
wrtc.RTCPeerConnection = class CountedPeerConnection extends Base {
  constructor(...args) {
    super(...args);
    opened++;
    if (leakBytes > 0) leaked.push(Buffer.alloc(leakBytes, 1));
  }
  close() {
    if (!closed.has(this)) {
      closed.add(this);
      closedCount++;
    }
    return super.close();
  }
};

process.on('SIGWINCH', () => {
  if (global.gc) global.gc();
  const resources = {};
  for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] || 0) + 1;
  writeFileSync(process.env.ROBOFLOW_PROBE_FILE, JSON.stringify({ opened, open: opened - closedCount, resources, rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed }));
});
