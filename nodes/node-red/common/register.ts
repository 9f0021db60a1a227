import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { toRoboflowError } from '../../../lib';
import { configNode, isRoboflowConfig } from './config';
import { translator, type Translate } from './i18n';
import { migrate, type Migration } from './migrate';
import { asError, reportError, statusText } from './report';
import { showStatus } from './status';

/** Node-RED's send: one message, or one per output (null: nothing on that output). */
export type Send = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;

/**
 * The one shape of every Roboflow node's runtime: what `registerNode` wires into Node-RED.
 * A controller never calls `done`: returning (or resolving) means the message was handled,
 * throwing (or rejecting) means it failed, and registerNode reports it the one way.
 */
export interface NodeController {
  /** Once, after the node exists: start what runs on deploy. A throw ends as a red status and a log line. */
  init?(): Promise<void> | void;
  /** One input message; resolves once it is handled (for a queued message: once its turn is done). */
  handle(msg: NodeMessageInFlow, send: Send): Promise<void> | void;
  /** Release everything the node started; `removed` when it was deleted rather than redeployed. */
  close(removed: boolean): Promise<void> | void;
}

/** What a controller is made from: the node, its migrated properties, its messages, its credentials. */
export interface NodeContext<Properties, Credentials = Record<string, string | undefined>> {
  RED: NodeAPI;
  node: Node;
  config: Properties & { version: number };
  t: Translate;
  credentials: Credentials;
}

export interface NodeDefinition<Properties, Credentials> {
  /** Node-RED's type, also the name of its message catalogue. */
  type: string;
  /** Version n -> n+1, applied on load: flows are user data and old ones load unchanged. */
  migrations: Migration[];
  /** Credential fields kept in Node-RED's credential store. */
  credentials?: Record<keyof Credentials & string, { type: 'text' | 'password' }>;
  /**
   * The node talks to Roboflow through a config node (property `roboflow`): a missing
   * config or key is said at deploy, on the status and in the log, not at the first message.
   */
  usesConfig?: boolean;
  create(context: NodeContext<Properties, Credentials>): NodeController;
}

/**
 * Registers a node type the one way every Roboflow node is wired: properties migrated,
 * `input` handled with `done` called on every path (errors to Catch nodes with the
 * message, the short form on the status), `close` awaited with `removed`, and a
 * configuration the user must fix (a bad zone list, a missing key) said once at deploy,
 * with later messages passed over rather than failing one by one.
 */
export function registerNode<Properties, Credentials = Record<string, string | undefined>>(RED: NodeAPI, definition: NodeDefinition<Properties, Credentials>): void {
  const t = translator(RED, definition.type);
  function RoboflowNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const config = migrate<Properties>(def, definition.migrations);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's constructor idiom: the closures below use `node`
    const node = this;
    let controller: NodeController;
    try {
      controller = definition.create({ RED, node, config, t, credentials: (node as Node & { credentials?: Credentials }).credentials ?? {} });
    } catch (error) {
      // Said once on the status and in the log; messages pass over it until it is fixed.
      reportError(node, error);
      node.on('input', (_msg: NodeMessageInFlow, _send: Send, done: (error?: Error) => void) => done());
      return;
    }
    // Messages wait for init (which reads what the node kept on disk, or starts its
    // stream): one arriving during it must neither race it nor be overwritten by it.
    let ready: Promise<void> = Promise.resolve();
    node.on('input', (msg: NodeMessageInFlow, send: Send, done: (error?: Error) => void) => {
      ready
        .then(() => controller.handle(msg, send))
        .then(
          () => done(),
          (caught: unknown) => {
            const error = toRoboflowError(caught, 'invalid-input');
            // A message dropped because the node closed is not an error of the flow.
            if (error.code === 'aborted') {
              done();
              return;
            }
            showStatus(node, 'error', statusText(error));
            done(asError(error));
          },
        );
    });
    // The config node counts its users (as Node-RED's MQTT broker node does), and keeps its
    // HTTP client open until they have closed: closing is when they end what they run.
    const usedConfig = definition.usesConfig ? RED.nodes.getNode(String((config as { roboflow?: unknown }).roboflow ?? '')) : undefined;
    if (isRoboflowConfig(usedConfig)) usedConfig.register(node.id);
    node.on('close', (removed: boolean, done: () => void) => {
      Promise.resolve()
        .then(() => controller.close(removed))
        .catch((error: unknown) => node.log(`close: ${(error as Error).message}`))
        .finally(() => {
          if (isRoboflowConfig(usedConfig)) usedConfig.deregister(node.id);
          node.status({});
          done();
        });
    });
    if (definition.usesConfig && !configReady(RED, node, config as { roboflow?: unknown })) return;
    ready = Promise.resolve()
      .then(() => controller.init?.())
      .catch((error: unknown) => {
        reportError(node, error);
      });
  }
  RED.nodes.registerType(definition.type, RoboflowNode, definition.credentials ? { credentials: definition.credentials } : undefined);
}

/** A config node is selected and has a usable key; otherwise says so (red status, one warning) and returns false. */
function configReady(RED: NodeAPI, node: Node, config: { roboflow?: unknown }): boolean {
  try {
    configNode(RED, config.roboflow).connection();
    return true;
  } catch (caught) {
    const error = toRoboflowError(caught, 'invalid-input');
    showStatus(node, 'error', statusText(error));
    node.warn(error.message);
    return false;
  }
}
