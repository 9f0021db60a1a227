import type { Node, NodeAPI, NodeDef } from 'node-red';
import { HttpClient, checkConnection, forgetSecret, registerSecret, resolveConnection, type RoboflowConnection } from '../../lib';
import type { RoboflowConfigNode } from './common/config';
import { migrate, type Migration } from './common/migrate';

interface ConfigProperties {
  name: string;
  serverUrl: string;
  apiUrl: string;
  region: string;
  plan: string;
  version: number;
}

/** Version 1 is the first release: fill in what a hand-written flow may lack. */
const migrations: Migration[] = [(config) => ({ serverUrl: '', apiUrl: '', region: '', plan: '', ...config })];

/** Placeholder the editor sends for a stored password it does not reveal. */
const STORED = '__PWRD__';

export = function register(RED: NodeAPI): void {
  function RoboflowConfig(this: RoboflowConfigNode, def: NodeDef & Partial<ConfigProperties>): void {
    RED.nodes.createNode(this, def);
    const config = migrate<ConfigProperties>(def as unknown as Record<string, unknown>, migrations);
    this.name = config.name;
    const apiKey = this.credentials?.apiKey;
    registerSecret(apiKey);
    let connection: RoboflowConnection | undefined;
    let http: HttpClient | undefined;
    const streams = new Set<string>();
    Object.defineProperty(this, 'streams', { value: streams });

    this.connection = () => {
      connection ??= resolveConnection({ apiKey, serverUrl: config.serverUrl, apiUrl: config.apiUrl, region: config.region, plan: config.plan });
      return connection;
    };
    this.http = () => {
      http ??= new HttpClient({ apiKey: this.connection().apiKey, logger: { debug: (m) => this.debug(m), info: (m) => this.log(m), warn: (m) => this.warn(m), error: (m) => this.error(m) } });
      return http;
    };
    this.on('close', (removed: boolean, done: () => void) => {
      if (removed) forgetSecret(apiKey);
      void (http?.close() ?? Promise.resolve()).finally(done);
    });
  }

  RED.nodes.registerType('roboflow-config', RoboflowConfig as unknown as (this: Node, def: NodeDef) => void, {
    credentials: { apiKey: { type: 'password' } },
  });

  // "Test connection" in the editor: checks the key and the server through the runtime
  // (the browser never talks to Roboflow, and the key never goes back to it).
  RED.httpAdmin.post('/roboflow/test-connection', RED.auth.needsPermission('roboflow-config.write'), (req, res) => {
    const body = (req.body ?? {}) as { id?: string; apiKey?: string; serverUrl?: string; apiUrl?: string };
    let apiKey = body.apiKey;
    if ((!apiKey || apiKey === STORED) && body.id) {
      apiKey = (RED.nodes.getCredentials(body.id) as { apiKey?: string } | undefined)?.apiKey;
    }
    let connection: RoboflowConnection;
    try {
      connection = resolveConnection({ apiKey, serverUrl: body.serverUrl, apiUrl: body.apiUrl });
    } catch (error) {
      res.json({ ok: false, message: (error as Error).message });
      return;
    }
    checkConnection(connection)
      .then((result) => res.json({ ok: result.ok, message: result.message }))
      .catch((error: Error) => res.json({ ok: false, message: error.message }));
  });
};
