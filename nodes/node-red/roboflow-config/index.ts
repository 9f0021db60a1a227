import type { Node, NodeAPI, NodeDef } from 'node-red';
import { join } from 'node:path';
import { DailyBudget, HttpClient, JsonFile, checkConnection, creditsToMinutes, forgetSecret, parseBudgetState, registerSecret, resolveConnection, type RoboflowConnection } from '../../../lib';
import { isRoboflowConfig, type RoboflowConfigNode } from '../common/config';
import { engineLogger } from '../common/report';
import { nodeStorageDir } from '../common/storage';
import { translator } from '../common/i18n';
import { migrate } from '../common/migrate';
import { migrations } from './migrations';

interface ConfigProperties {
  name: string;
  serverUrl: string;
  apiUrl: string;
  region: string;
  plan: string;
  /** Daily stream budget shared by every stream on this config: a number ('' = none). */
  budgetLimit: number | string;
  /** What the limit counts: stream `minutes`, or `credits` (converted with the plan's rate). */
  budgetUnit: 'minutes' | 'credits';
  /** Stream minutes one credit buys ('' = the plan's published rate). */
  creditMinutes: number | string;
  version: number;
}

/** How often the budget adds up streamed time and saves it. */
const BUDGET_TICK_MS = 5_000;

/** Placeholder the editor sends for a stored password it does not reveal. */
const STORED = '__PWRD__';

interface TestRequest {
  id?: unknown;
  apiKey?: unknown;
  serverUrl?: unknown;
  apiUrl?: unknown;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** How long a closing config node waits for its users to close (Node-RED gives every node 15 s). */
const USERS_CLOSE_WAIT_MS = 12_000;

export = function register(RED: NodeAPI): void {
  const t = translator(RED, 'roboflow-config');

  function RoboflowConfig(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    // This node offers its users more than a plain node: the methods are added below.
    const node = this as RoboflowConfigNode;
    const config = migrate<ConfigProperties>(def, migrations);
    node.name = config.name;
    const apiKey = node.credentials?.apiKey;
    // Held under this node's id: deleting another config node with the same key keeps it masked.
    registerSecret(apiKey, node.id);
    let connection: RoboflowConnection | undefined;
    let http: HttpClient | undefined;
    const users = new Set<string>();
    Object.defineProperty(node, 'users', { value: users });

    node.register = (nodeId) => {
      users.add(nodeId);
    };
    // The shared HTTP client stays open after the last user leaves: its idle sockets close by
    // themselves within seconds, and a node deployed next reuses it.
    let lastUserLeft: (() => void) | undefined;
    node.deregister = (nodeId) => {
      users.delete(nodeId);
      if (users.size === 0) lastUserLeft?.();
    };
    node.connection = () => {
      connection ??= resolveConnection({ apiKey, serverUrl: config.serverUrl, apiUrl: config.apiUrl, region: config.region, plan: config.plan, secretHolder: node.id });
      return connection;
    };
    node.http = () => {
      http ??= new HttpClient({ apiKey: node.connection().apiKey, logger: engineLogger(node, { quiet: true }) });
      return http;
    };
    const daily = openBudget(RED, node, config);
    node.budget = () => daily.budget;
    node.minutesPerCredit = () => creditRate(config);
    node.on('close', (removed: boolean, done: () => void) => {
      // A redeployed node keeps its id and registers again; only a deleted one lets go.
      if (removed) forgetSecret(apiKey, node.id);
      // Node-RED stops a config node together with its users (a full deploy, a shutdown):
      // the shared HTTP client stays open until they have closed, because closing is when
      // they end what they run on the server (a session, a pipeline: otherwise left billed).
      const usersClosed = new Promise<void>((resolve) => {
        if (users.size === 0) {
          resolve();
          return;
        }
        lastUserLeft = resolve;
        setTimeout(resolve, USERS_CLOSE_WAIT_MS).unref();
      });
      void usersClosed.then(() => Promise.all([daily.close(), http?.close()])).finally(done);
    });
  }

  /**
   * The daily stream time of this config's streams: counted always (the Stream nodes'
   * `stats` report minutes today and estimated credits), limited when a budget is set.
   * Kept in `<userDir>/roboflow/budget/<config id>.json` (a restart keeps what was spent
   * today); warned about once at 80 % and at the limit. Tests may set
   * `settings.roboflowClock` (a function returning a Date) to move time.
   */
  function openBudget(runtime: NodeAPI, node: RoboflowConfigNode, properties: ConfigProperties): { budget: DailyBudget; close(): Promise<void> } {
    let limitMinutes: number | null = null;
    if (properties.budgetLimit !== '' && properties.budgetLimit !== undefined && properties.budgetLimit !== null) {
      const amount = Number(properties.budgetLimit);
      if (!Number.isFinite(amount) || amount < 0) node.warn(t('budget.invalid', { value: String(properties.budgetLimit) }));
      else limitMinutes = properties.budgetUnit === 'credits' ? creditsToMinutes(amount, properties.plan || undefined, creditRate(properties)) : amount;
    }
    const clock = (runtime.settings as { roboflowClock?: () => Date }).roboflowClock;
    const store = new JsonFile(join(nodeStorageDir(runtime, 'budget', node.id), 'budget.json'), { validate: parseBudgetState, logger: engineLogger(node) });
    const budget = new DailyBudget({ limitMinutes, store, ...(clock ? { now: clock } : {}) });
    budget.on('warning', ({ usedMinutes, limitMinutes: limit }) => node.warn(t('budget.warning', { used: Math.round(usedMinutes), limit: Math.round(limit) })));
    budget.on('exhausted', ({ limitMinutes: limit }) => node.warn(t('budget.exhausted', { limit: Math.round(limit) })));
    const loading = budget.load();
    const timer = setInterval(() => void budget.tick().catch((error: unknown) => node.log(`budget: ${(error as Error).message}`)), BUDGET_TICK_MS);
    timer.unref();
    return {
      budget,
      close: async () => {
        clearInterval(timer);
        await loading;
        await budget.tick().catch(() => undefined);
      },
    };
  }

  /** "Minutes per credit" when set to a positive number; else the plan's rate applies. */
  function creditRate(properties: ConfigProperties): number | undefined {
    const rate = properties.creditMinutes === '' || properties.creditMinutes === undefined ? undefined : Number(properties.creditMinutes);
    return rate !== undefined && Number.isFinite(rate) && rate > 0 ? rate : undefined;
  }

  RED.nodes.registerType('roboflow-config', RoboflowConfig, {
    credentials: { apiKey: { type: 'password' } },
  });

  /**
   * "Test connection" in the editor: checks the key and the server through the runtime
   * (the browser never talks to Roboflow, and the key never goes back to it).
   *
   * Only JSON is accepted: a web page on another site can post a form or text/plain to
   * this endpoint without asking, but a JSON post needs a CORS preflight that Node-RED
   * refuses, so another site cannot make the runtime run this. And a stored key is only
   * ever sent to the URLs it was saved with: a changed URL needs the key typed again, as
   * Node-RED's own nodes treat credentials.
   */
  RED.httpAdmin.post('/roboflow/test-connection', RED.auth.needsPermission('roboflow-config.write'), (req, res) => {
    if (!req.is('application/json')) {
      res.status(415).json({ ok: false, message: t('test.jsonOnly') });
      return;
    }
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as TestRequest;
    const typed = text(body.apiKey);
    const useStored = !typed || typed === STORED;
    let connection: RoboflowConnection;
    try {
      if (useStored) {
        const id = text(body.id);
        const saved = id ? RED.nodes.getNode(id) : undefined;
        // Only a deployed Roboflow config node has a stored key (never another node's credentials).
        const apiKey = isRoboflowConfig(saved) ? (saved.credentials as { apiKey?: string } | undefined)?.apiKey : undefined;
        connection = resolveConnection({ apiKey, serverUrl: text(body.serverUrl), apiUrl: text(body.apiUrl), ...(saved ? { secretHolder: saved.id } : {}) });
        const stored = (saved as RoboflowConfigNode).connection();
        if (stored.apiUrl !== connection.apiUrl || stored.serverUrl !== connection.serverUrl) {
          res.json({ ok: false, message: t('test.urlChanged') });
          return;
        }
      } else {
        connection = resolveConnection({ apiKey: typed, serverUrl: text(body.serverUrl), apiUrl: text(body.apiUrl) });
      }
    } catch (error) {
      res.json({ ok: false, message: (error as Error).message });
      return;
    }
    checkConnection(connection)
      .then((result) => res.json({ ok: result.ok, message: result.message }))
      .catch((error: unknown) => res.json({ ok: false, message: (error as Error).message }));
  });
};
