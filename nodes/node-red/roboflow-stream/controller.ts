import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import {
  CapturedStream,
  GatedStream,
  PipelineStream,
  ResilientStream,
  isRoboflowHosted,
  captureSettings,
  minutesToCredits,
  motionMask,
  RoboflowError,
  StreamMetrics,
  splitCameraLogin,
  withCameraLogin,
  type CameraLogin,
  type CameraSource,
  type DailyBudget,
  type LiveStream,
  type GatedLiveStream,
  type GateNote,
  type JsonFile,
  type PipelineHandle,
  type PipelineStats,
  type MotionSettings,
  type StreamOptions,
  type StreamSource,
  type WorkflowRef,
} from '../../../lib';
import { configNode } from '../common/config';
import type { Translate } from '../common/i18n';
import { evaluate, jsonObject, mergeParameters, nameList } from '../common/properties';
import { reportError, engineLogger } from '../common/report';
import { showStatus } from '../common/status';
import { pipelineStore, terminateLeftover } from './pipeline';

/** `device`: a USB/V4L2 camera; `replay`: a video file played on this machine as a live camera. Both always read locally. */
export type SourceKind = 'rtsp' | 'file' | 'frames' | 'mjpeg' | 'device' | 'replay';

export interface StreamProperties {
  name: string;
  roboflow: string;
  workspace: string;
  workspaceType: string;
  workflow: string;
  workflowType: string;
  workflowSpec: string;
  /** A trained model to stream instead of a workflow (`project/version`); empty: a workflow. */
  model: string;
  /** The model's confidence threshold (0-1; empty: the model's default) and the classes it reports (empty: all). */
  modelConfidence: number | string;
  modelClasses: string;
  imageInput: string;
  dataOutputs: string;
  streamOutputs: string;
  parameters: string;
  source: SourceKind;
  url: string;
  urlType: string;
  /** true, false, or '' (auto: every frame for files, realtime for live sources). */
  realtime: boolean | '';
  start: 'deploy' | 'message';
  /** Seconds before the service ends a session (it is renewed at once); '' = the service maximum. */
  processingTimeout: number | string;
  /** Pin a workflow version (empty: the current one). */
  workflowVersion: string;
  /** Skip the workflow's sinks (email, webhooks, ...) while testing a flow. */
  disableSinks: boolean;
  /**
   * Who opens an RTSP/MJPEG camera: this machine (sends frames on the video track),
   * Roboflow's server (it pulls the URL over WebRTC), or a self-hosted Inference server
   * running an InferencePipeline (results polled over HTTP; no WebRTC at all).
   */
  capture: 'local' | 'server' | 'pipeline';
  /** Local capture: frames per second sent at most, longest side in pixels, hardware decoding. */
  maxFps: number | string;
  maxSize: number | string;
  hwaccel: string;
  /** Local capture of RTSP: RTP over TCP (default) or UDP. */
  rtspTransport: 'tcp' | 'udp';
  /** `replay`: start the file again at its end. */
  loop: boolean;
  /** When the Roboflow session runs: always (`none`), on motion in the picture (local capture), or on `gate` messages. */
  gate: 'none' | 'motion' | 'message';
  /** Seconds without motion, detections or an open gate message before the session closes. */
  quietTime: number | string;
  /** Seconds of frames from before the session was ready, sent first (local capture). */
  preRoll: number | string;
  /** Classes whose detections keep the session open (empty: any). */
  gateClasses: string;
  /** Share of the picture (percent) that must change to count as motion. */
  motionArea: number | string;
  /** Where motion does not count (trees, a road): JSON text of polygons in shares of the picture (0..1); empty: nowhere. */
  motionIgnore: string;
  version: number;
}

/** The Stream node's credentials: the camera's login, put into the URL at connect time only. */
export interface StreamCredentials {
  cameraUser?: string;
  cameraPassword?: string;
}

type Send = (msg: NodeMessage | Array<NodeMessage | null>) => void;

/** Failed attempts in a row after which one error goes to Catch nodes (the node keeps trying). */
const CATCHABLE_AFTER_ATTEMPTS = 5;

/** What went wrong, in a few words for the status ring ("camera not reachable: connection refused"). */
function outageCause(text: string): string | undefined {
  const causes: Array<[RegExp, string]> = [
    [/refused/i, 'connection refused'],
    [/401|unauthori[sz]ed|authenticat/i, 'login rejected'],
    [/404|not found/i, 'stream not found'],
    [/ENOTFOUND|EAI_AGAIN|resolve/i, 'unknown host'],
    [/no route|unreachable/i, 'no route'],
    [/timed? ?out|timeout/i, 'no answer'],
  ];
  return causes.find(([pattern]) => pattern.test(text))?.[1];
}

/** Files waiting their turn when several arrive while one is processed. */
const MAX_QUEUED_FILES = 20;
/** A frames source with no frame for this long lets a lost session go (the server would end it anyway). */
const FRAMES_IDLE_MS = 50_000;

/**
 * Maps a Roboflow Stream node onto the engine: its configuration onto a
 * ResilientStream, input messages onto start/stop/reconfigure/frames, and the stream's
 * events onto messages, status and errors.
 *
 * A node owns at most one session, ever: every operation that starts or stops a stream
 * runs in one queue, one at a time, in the order the messages came, and once the node
 * closes nothing starts again (overlapping starts used to leak billed sessions).
 */
export class StreamController {
  private stream: LiveStream | undefined;
  /** The config's daily budget, if it has one; whether the budget stopped this stream (it restarts it). */
  private budget: DailyBudget | undefined;
  private stoppedByBudget = false;
  private unwatchBudget: (() => void) | undefined;
  /** The message the running stream was started with (a budget restart starts it the same way). */
  private lastStart: NodeMessage | undefined;
  /** Set while a local camera feeds the stream: its sizes for the status, and whether it is away. */
  private camera: { info?: string; lost: boolean } | undefined;
  /** The gate in use (`motion`, `message`) and what it last said, for the status. */
  private gating: 'motion' | 'message' | undefined;
  private gateNote: GateNote | undefined;
  private gateQuietMs = 0;
  /** "via relay (tcp)" when the session goes through a TURN relay: the user's network blocks a direct path. */
  private relay: string | undefined;
  /** The tail of the control queue: starts, stops, reconfigures and file hand-offs run one at a time. */
  private queue: Promise<void> = Promise.resolve();
  private warnedUrlPassword = false;
  private readonly fileQueue: NodeMessage[] = [];
  private results = 0;
  /** Kept across sessions of this node: reconnects and drops add up. */
  private readonly metrics = new StreamMetrics();
  private reconnecting = false;
  /** Failed attempts since the stream last streamed; the outage was warned about once. */
  private outage = { attempts: 0, warned: false, caught: false };
  private resultsAtLastTick = 0;
  private fps = 0;
  private ticker: NodeJS.Timeout | undefined;
  private lastFrameAt = 0;
  private currentFile: string | undefined;
  private closing = false;
  private readonly topic: string;
  /** The self-hosted pipeline's handle on disk, the handle to re-attach with at the first start, its last report. */
  private readonly pipelines: JsonFile<PipelineHandle>;
  private resumeHandle: PipelineHandle | undefined;
  private pipelineStats: PipelineStats | undefined;

  constructor(
    private readonly RED: NodeAPI,
    private readonly node: Node,
    private readonly config: StreamProperties,
    private readonly t: Translate,
    private readonly credentials: StreamCredentials = {},
  ) {
    this.topic = config.workflowSpec?.trim() ? 'inline-workflow' : config.model?.trim() ? config.model.trim() : config.workflow;
    this.pipelines = pipelineStore(RED, node);
  }

  /** Runs `work` after everything queued before it; a failure does not block what follows. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Called once the node exists: starts on deploy, or waits for a message. */
  async init(): Promise<void> {
    try {
      this.watchBudget(configNode(this.RED, this.config.roboflow).budget());
    } catch {
      // No config selected: said when the stream starts.
    }
    const waitsForMessage = this.config.start === 'message' || (this.config.source !== 'frames' && this.config.urlType === 'msg');
    await this.adoptPipeline(!waitsForMessage);
    if (waitsForMessage) {
      showStatus(this.node, 'idle', this.t(this.config.source === 'frames' ? 'status.waitingFrames' : 'status.waiting'));
      return;
    }
    try {
      await this.serial(() => this.start(undefined));
    } catch (error) {
      reportError(this.node, error);
    }
  }

  /**
   * A pipeline this node left running before a restart (its handle is on disk): kept to
   * re-attach to when the node starts it again by itself, terminated otherwise (the node
   * no longer runs a pipeline, or waits for a start message that may never come).
   */
  private async adoptPipeline(startsByItself: boolean): Promise<void> {
    if (this.usesPipeline() && startsByItself) {
      this.resumeHandle = await this.pipelines.load();
      return;
    }
    let connection;
    let http;
    try {
      const config = configNode(this.RED, this.config.roboflow);
      connection = config.connection();
      http = config.http();
    } catch {
      // No usable config: the handle is forgotten, the pipeline ends by its consumption timeout.
    }
    await terminateLeftover(this.pipelines, connection, http, this.node);
  }

  async handle(msg: NodeMessageInFlow): Promise<void> {
    const topic = typeof msg.topic === 'string' ? msg.topic.toLowerCase() : '';
    if (topic === 'stats') {
      // On demand: the stream's health, and what it cost today, on the results output.
      const minutesToday = this.budget ? Math.round(this.budget.usedMinutes(this.node.id) * 10) / 10 : 0;
      const config = this.budget ? configNode(this.RED, this.config.roboflow) : undefined;
      const credits = minutesToCredits(minutesToday, config?.connection().plan, config?.minutesPerCredit());
      const pipeline = this.pipelineStats ? { pipeline: { ...this.pipelineStats, paused: this.stream instanceof PipelineStream && this.stream.paused } } : {};
      this.node.send([{ topic: 'stats', payload: { ...this.metrics.snapshot(), minutesToday, estimatedCredits: Math.round(credits * 100) / 100, ...pipeline } }, null]);
    } else if (topic === 'pause' || topic === 'resume') {
      await this.serial(async () => this.pauseOrResume(topic === 'pause'));
    } else if (topic === 'stop') {
      this.fileQueue.length = 0;
      await this.serial(async () => {
        await this.stop();
        if (!this.closing) showStatus(this.node, 'idle', this.t('status.stopped'));
      });
    } else if (topic === 'gate') {
      await this.serial(async () => this.signalGate(msg));
    } else if (topic === 'reconfigure') {
      await this.serial(async () => this.reconfigure(msg));
    } else if (this.config.source === 'frames' && topic !== 'start') {
      await this.pushFrame(msg);
    } else {
      await this.serial(async () => {
        if (this.config.source === 'file' && this.stream?.active && topic !== 'start') {
          if (this.fileQueue.length >= MAX_QUEUED_FILES) throw new RoboflowError('invalid-input', this.t('error.queueFull', { max: MAX_QUEUED_FILES }));
          this.fileQueue.push(msg);
        } else {
          await this.start(msg);
        }
      });
    }
  }

  /**
   * The config's daily budget: while it is reached the stream does not run (status
   * "daily budget reached (240 min)"); when a new day starts, or the limit is raised,
   * a stream the budget stopped starts again.
   */
  private watchBudget(budget: DailyBudget): void {
    this.budget = budget;
    if (budget.limit === null) return;
    const exhausted = (): void => {
      void this.serial(async () => {
        if (!this.stream?.active || this.closing) return;
        this.stoppedByBudget = true;
        await this.stop();
        this.showBudgetReached();
      });
    };
    const available = (): void => {
      void this.serial(async () => {
        if (!this.stoppedByBudget || this.closing) return;
        this.stoppedByBudget = false;
        await this.start(this.lastStart);
      }).catch((error: unknown) => reportError(this.node, error));
    };
    budget.on('exhausted', exhausted);
    budget.on('available', available);
    this.unwatchBudget = () => {
      budget.off('exhausted', exhausted);
      budget.off('available', available);
      budget.running(this.node.id, false);
    };
  }

  private showBudgetReached(): void {
    showStatus(this.node, 'idle', this.t('status.budgetReached', { limit: Math.round(this.budget?.limit ?? 0) }));
  }

  /**
   * Stops for good: whatever is queued finds the node closing and starts nothing. A
   * self-hosted pipeline is left running across a restart or redeploy (the node
   * re-attaches to it) and terminated when the node is deleted.
   */
  async close(removed?: boolean): Promise<void> {
    this.unwatchBudget?.();
    this.closing = true;
    this.fileQueue.length = 0;
    await this.serial(() => this.stop(removed !== true && this.stream instanceof PipelineStream ? 'detach' : 'terminate'));
    if (removed === true) await this.pipelines.remove();
  }

  /** `msg.topic` "pause" / "resume": a self-hosted pipeline mutes its source (the camera stays open; no results). */
  private async pauseOrResume(pause: boolean): Promise<void> {
    const stream = this.stream;
    if (!(stream instanceof PipelineStream)) throw new RoboflowError('invalid-input', this.t('error.pauseNeedsPipeline'));
    if (pause) {
      await stream.pause();
    } else {
      await stream.resume();
    }
  }

  private async pushFrame(msg: NodeMessageInFlow): Promise<void> {
    const image = msg.payload;
    if (!(image instanceof Uint8Array)) {
      throw new RoboflowError('invalid-input', this.t('error.notAnImage', { type: image === null ? 'null' : Array.isArray(image) ? 'array' : typeof image }));
    }
    this.lastFrameAt = Date.now();
    if (!this.stream?.active) {
      // The first frame starts the stream (once: later frames find it started).
      await this.serial(async () => {
        if (!this.stream?.active) await this.start(undefined);
      });
    }
    const stream = this.stream;
    if (stream instanceof GatedStream) {
      // The gate looks at it (motion) and sends it while a session runs, else holds it
      // for the next session's pre-roll: the frames in between are not billed.
      const outcome = await stream.pushFrame(image);
      // A frame let go from the pre-roll while no session ran is not a drop the status should count.
      if (outcome.sent || stream.state === 'streaming') this.metrics.frameSent(outcome.sent);
      return;
    }
    if (!(stream instanceof ResilientStream)) return;
    if (stream.state === 'reconnecting') return; // Dropped: the status says why.
    const outcome = await stream.pushFrame(image);
    this.metrics.frameSent(outcome.sent);
  }

  /** `msg.topic = "gate"`: payload true (or "open", 1, "on") opens the session, false lets the quiet time run. */
  private signalGate(msg: NodeMessageInFlow): void {
    const stream = this.stream;
    if (!(stream instanceof CapturedStream || stream instanceof GatedStream) || (stream instanceof CapturedStream && stream.gateState === undefined)) {
      throw new RoboflowError('invalid-input', this.t('error.noGate'));
    }
    const value = msg.payload;
    const open = value === true || value === 1 || (typeof value === 'string' && /^(true|open|on|1)$/i.test(value.trim()));
    const close = value === false || value === 0 || (typeof value === 'string' && /^(false|close|closed|off|0)$/i.test(value.trim()));
    if (!open && !close) throw new RoboflowError('invalid-input', this.t('error.gatePayload', { type: typeof value }));
    stream.signalGate(open);
  }

  /** The gate's settings, checked (seconds and percent from the editor). */
  private gateOptions(): { quietMs: number; preRollMs: number; holdClasses: string[]; motion: Pick<MotionSettings, 'areaThreshold' | 'mask'> } {
    const seconds = (value: unknown, fallback: number, name: string): number => {
      if (value === '' || value === undefined || value === null) return fallback;
      const parsed = Number(value);
      if (!Number.isFinite(parsed) || parsed < 0 || parsed > 86_400) throw new RoboflowError('invalid-input', this.t('error.gateNumber', { name, value: String(value) }));
      return parsed;
    };
    return {
      quietMs: seconds(this.config.quietTime, 30, this.t('label.quietTime')) * 1000,
      preRollMs: Math.min(10, seconds(this.config.preRoll, 2, this.t('label.preRoll'))) * 1000,
      holdClasses: nameList(this.config.gateClasses),
      motion: {
        areaThreshold: Math.min(100, seconds(this.config.motionArea, 1, this.t('label.motionArea'))) / 100,
        mask: motionMask(this.config.motionIgnore, this.t('label.motionIgnore')),
      },
    };
  }

  private reconfigure(msg: NodeMessageInFlow): void {
    const payload = (msg.payload ?? {}) as { dataOutputs?: unknown; streamOutputs?: unknown };
    if (typeof payload !== 'object') throw new RoboflowError('invalid-input', this.t('error.reconfigure'));
    const outputs: { dataOutputs?: string[]; streamOutputs?: string[] } = {};
    if (payload.dataOutputs !== undefined) outputs.dataOutputs = nameList(payload.dataOutputs);
    if (payload.streamOutputs !== undefined) outputs.streamOutputs = nameList(payload.streamOutputs);
    if (!outputs.dataOutputs && !outputs.streamOutputs) throw new RoboflowError('invalid-input', this.t('error.reconfigure'));
    if (!this.stream?.active) throw new RoboflowError('invalid-input', this.t('error.notRunning'));
    this.stream.reconfigure(outputs);
  }

  /** Reads the camera here (local capture) rather than having Roboflow's server pull it. */
  private readsLocally(): boolean {
    const kind = this.config.source;
    return kind === 'device' || kind === 'replay' || ((kind === 'rtsp' || kind === 'mjpeg') && this.config.capture === 'local');
  }

  /** A self-hosted Inference server runs the camera in an InferencePipeline (no WebRTC). */
  private usesPipeline(): boolean {
    return (this.config.source === 'rtsp' || this.config.source === 'mjpeg') && this.config.capture === 'pipeline';
  }

  /** The URL or path to read: from the message (msg.url, msg.payload) or the node. */
  private async target(msg: NodeMessage | undefined): Promise<string> {
    const kind = this.config.source;
    let target: unknown;
    if (msg) target = typeof msg.url === 'string' && msg.url ? msg.url : typeof msg.payload === 'string' && msg.payload ? msg.payload : undefined;
    if (target === undefined && this.config.urlType !== 'msg') target = await evaluate(this.RED, this.node, this.config.url, this.config.urlType, msg);
    if (target === undefined && this.config.urlType === 'msg' && msg) target = await evaluate(this.RED, this.node, this.config.url, 'msg', msg);
    if (typeof target !== 'string' || !target.trim()) {
      throw new RoboflowError('invalid-input', this.t(kind === 'file' || kind === 'replay' ? 'error.noFile' : kind === 'device' ? 'error.noDevice' : 'error.noUrl'));
    }
    return target.trim();
  }

  /** What Roboflow's server reads: a file upload, a camera it pulls, or frames from the flow. */
  private async source(msg: NodeMessage | undefined): Promise<StreamSource> {
    const kind = this.config.source;
    if (kind === 'frames') return { kind };
    const target = await this.target(msg);
    if (kind === 'file') return { kind, path: target };
    if (kind === 'rtsp' || kind === 'mjpeg') return { kind, url: this.cameraUrl(target) };
    throw new RoboflowError('invalid-input', `Unknown source "${kind}"`);
  }

  /** What this machine reads (local capture), sent to Roboflow on the video track. */
  private async cameraSource(msg: NodeMessage | undefined): Promise<CameraSource> {
    const kind = this.config.source;
    const target = await this.target(msg);
    if (kind === 'device') return { kind: 'device', path: target };
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- a flow file may lack the field: missing means loop
    if (kind === 'replay') return { kind: 'file', path: target, loop: this.config.loop !== false };
    if (kind === 'mjpeg') return { kind: 'mjpeg', url: this.cameraUrl(target) };
    return { kind: 'url', url: this.cameraUrl(target), transport: this.config.rtspTransport === 'udp' ? 'udp' : 'tcp' };
  }

  /**
   * The camera URL with the node's camera login put in (only now, at connect time: the
   * flow holds no password). A flow saved with the password in the URL still works, with
   * one warning saying how to move it into the credentials.
   */
  private cameraUrl(url: string): string {
    const login: CameraLogin = { username: this.credentials.cameraUser, password: this.credentials.cameraPassword };
    if (!login.username && !login.password) {
      if (splitCameraLogin(url).login.password && !this.warnedUrlPassword) {
        this.warnedUrlPassword = true;
        this.node.warn(this.t('warn.passwordInUrl'));
      }
      return url;
    }
    return withCameraLogin(url, login);
  }

  private async workflow(msg: NodeMessage | undefined): Promise<WorkflowRef> {
    const specification = jsonObject(this.config.workflowSpec, this.t('label.workflowSpec'));
    if (specification) return { specification };
    const model = this.config.model?.trim();
    if (model) {
      const confidence = this.config.modelConfidence;
      const classes = nameList(this.config.modelClasses);
      return {
        model,
        ...(confidence !== '' && confidence !== undefined && confidence !== null ? { confidence: Number(confidence) } : {}),
        ...(classes.length > 0 ? { classes } : {}),
      };
    }
    const workspace = await evaluate(this.RED, this.node, this.config.workspace, this.config.workspaceType, msg);
    const workflowId = await evaluate(this.RED, this.node, this.config.workflow, this.config.workflowType, msg);
    if (typeof workspace !== 'string' || !workspace.trim() || typeof workflowId !== 'string' || !workflowId.trim()) {
      throw new RoboflowError('invalid-input', this.t('error.noWorkflow'));
    }
    const versionId = String(this.config.workflowVersion ?? '').trim();
    return { workspace: workspace.trim(), workflowId: workflowId.trim(), ...(versionId ? { versionId } : {}) };
  }

  /** The node's parameters, with msg.parameters (an object, or JSON text) laid over them. */
  private parameters(msg: NodeMessage | undefined): Record<string, unknown> {
    return mergeParameters(this.config.parameters, (msg as { parameters?: unknown } | undefined)?.parameters);
  }

  /** Seconds before the service renews a session; '' asks for the service maximum. */
  private processingTimeout(): number | null {
    const value = this.config.processingTimeout;
    if (value === '' || value === null) return null;
    const seconds = Number(value ?? 3600);
    if (!Number.isFinite(seconds) || seconds < 1) throw new RoboflowError('invalid-input', this.t('error.processingTimeout', { value: String(value) }));
    return Math.round(seconds);
  }

  /** Opens a stream (replacing a running one). Only ever called from the control queue. */
  private async start(msg: NodeMessage | undefined): Promise<void> {
    if (this.closing) return;
    this.lastStart = msg;
    if (this.budget?.exhausted) {
      // Not an error: it starts by itself after midnight (or when the limit is raised).
      this.stoppedByBudget = true;
      this.showBudgetReached();
      return;
    }
    const config = configNode(this.RED, this.config.roboflow);
    if (this.usesPipeline()) {
      await this.startPipeline(msg);
      return;
    }
    const local = this.readsLocally();
    const source = local ? undefined : await this.source(msg);
    const camera = local ? await this.cameraSource(msg) : undefined;
    const options: Omit<StreamOptions, 'source'> = {
      connection: config.connection(),
      http: config.http(),
      workflow: await this.workflow(msg),
      imageInput: this.config.imageInput?.trim() || 'image',
      dataOutputs: nameList(this.config.dataOutputs).length > 0 ? nameList(this.config.dataOutputs) : ['*'],
      streamOutputs: nameList(this.config.streamOutputs),
      parameters: this.parameters(msg),
      processingTimeout: this.processingTimeout(),
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- only a real true from the flow skips the sinks
      ...(this.config.disableSinks === true ? { disableSinks: true } : {}),
      ...(typeof this.config.realtime === 'boolean' ? { realtime: this.config.realtime } : {}),
      videoOutput: nameList(this.config.streamOutputs).length > 0 ? 'jpeg' : 'none',
      // With realtime off a frame is acknowledged once its message reached the next node
      // (see the result handler): a slow flow holds the server back instead of queueing.
      ackMode: 'manual',
      // The engine's warnings go to the log; the node itself says what the user must know, once.
      logger: engineLogger(this.node, { quiet: true }),
    };
    await this.stop();
    if (this.closing) return;
    const gate = this.config.gate === 'motion' || this.config.gate === 'message' ? this.config.gate : undefined;
    if (gate && source?.kind === 'file') throw new RoboflowError('invalid-input', this.t('error.gateFile'));
    // Motion is measured where the pictures are seen: a camera read here, or frames from the flow.
    if (gate === 'motion' && !camera && source?.kind !== 'frames') throw new RoboflowError('invalid-input', this.t('error.motionNeedsLocal'));
    let stream: LiveStream;
    if (camera) {
      const captured = new CapturedStream({
        ...options,
        camera,
        capture: captureSettings({ maxFps: this.config.maxFps, maxSize: this.config.maxSize, hwaccel: this.config.hwaccel }),
        ...(gate ? { gate: { mode: gate, ...this.gateOptions() } } : {}),
      });
      stream = captured;
      this.camera = { lost: false };
      this.wireCamera(captured);
    } else {
      const streamSource = source as StreamSource;
      const shouldReconnect = (): boolean => streamSource.kind !== 'frames' || Date.now() - this.lastFrameAt < FRAMES_IDLE_MS;
      stream = gate
        ? new GatedStream({ ...options, source: streamSource, shouldReconnect, gate: { mode: gate, ...this.gateOptions() } })
        : new ResilientStream({ ...options, source: streamSource, shouldReconnect });
      this.camera = undefined;
    }
    this.gating = gate;
    this.gateQuietMs = gate ? this.gateOptions().quietMs : 0;
    this.gateNote = undefined;
    if (stream instanceof CapturedStream || stream instanceof GatedStream) this.wireGate(stream);
    this.stream = stream;
    this.currentFile = source?.kind === 'file' ? source.path : undefined;
    this.results = 0;
    this.wire(stream);
    if (camera) showStatus(this.node, 'connecting', this.t('status.openingCamera'));
    stream.start();
  }

  /**
   * A self-hosted InferencePipeline on the camera: re-attached to the one this node
   * left running when it is still there for the same settings, else a new one. Its
   * handle is kept on disk while it runs.
   */
  private async startPipeline(msg: NodeMessage | undefined): Promise<void> {
    const config = configNode(this.RED, this.config.roboflow);
    const connection = config.connection();
    if (isRoboflowHosted(connection.serverUrl)) throw new RoboflowError('invalid-input', this.t('error.pipelineNeedsSelfHosted'));
    if (this.config.gate === 'motion' || this.config.gate === 'message') throw new RoboflowError('invalid-input', this.t('error.gatePipeline'));
    const target = this.cameraUrl(await this.target(msg));
    const maxFps = this.config.maxFps === '' || this.config.maxFps === undefined ? undefined : Number(this.config.maxFps);
    if (maxFps !== undefined && (!Number.isFinite(maxFps) || maxFps <= 0)) throw new RoboflowError('invalid-input', this.t('error.maxFps', { value: String(this.config.maxFps) }));
    const workflow = await this.workflow(msg);
    const resume = this.resumeHandle;
    this.resumeHandle = undefined;
    await this.stop();
    if (this.closing) return;
    const stream = new PipelineStream({
      connection,
      http: config.http(),
      workflow,
      source: { kind: 'url', url: target },
      imageInput: this.config.imageInput?.trim() || 'image',
      parameters: this.parameters(msg),
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- only a real true from the flow skips the sinks
      ...(this.config.disableSinks === true ? { disableSinks: true } : {}),
      ...(maxFps !== undefined ? { maxFps } : {}),
      ...(resume ? { resume } : {}),
      logger: engineLogger(this.node, { quiet: true }),
    });
    this.camera = undefined;
    this.gating = undefined;
    this.gateNote = undefined;
    this.pipelineStats = undefined;
    this.stream = stream;
    this.currentFile = undefined;
    this.results = 0;
    this.wire(stream);
    stream.on('pipeline', ({ handle, attached }) => {
      if (this.stream !== stream) return;
      if (attached) this.node.log(this.t('log.pipelineAttached', { id: handle.pipelineId }));
      this.pipelines.save(handle).catch((error: unknown) => this.node.warn(`Could not keep the pipeline handle: ${(error as Error).message}`));
    });
    stream.on('pipeline-ended', ({ pipelineId, reason }) => {
      this.node.log(this.t('log.pipelineEnded', { id: pipelineId, reason }));
      // A replacement saves its own handle right after; a node that stopped keeps none.
      if (this.stream !== stream || !stream.active) void this.pipelines.remove();
    });
    stream.on('stats', (stats) => {
      if (this.stream === stream) this.pipelineStats = stats;
    });
    stream.on('paused', (paused) => {
      if (this.stream !== stream) return;
      if (paused) showStatus(this.node, 'idle', this.t('status.paused'));
      else showStatus(this.node, 'live', this.t('status.started'));
    });
    stream.start();
  }

  /** A gated stream's story: watching (no session: nothing billed), open, closing in N s. */
  private wireGate(stream: GatedLiveStream & LiveStream): void {
    stream.on('gate', (note) => {
      if (this.stream !== stream) return;
      this.gateNote = note;
      if (note.state === 'watching') this.showGateWatching();
    });
  }

  /** A gate is armed and closed: no session is wanted (one may still be winding down). */
  private gateClosed(): boolean {
    return this.gating !== undefined && this.gateNote?.state === 'watching';
  }

  private showGateWatching(): void {
    if (!this.camera?.lost) showStatus(this.node, 'idle', this.t(this.gating === 'motion' ? 'status.watchingMotion' : 'status.watchingGate'));
  }

  /** The local camera's own story: open (its sizes), away (retrying), a warning once. */
  private wireCamera(stream: CapturedStream): void {
    const outage = { attempts: 0, warned: false, caught: false };
    stream.on('camera-open', (info) => {
      if (this.stream !== stream || !this.camera) return;
      this.camera.lost = false;
      this.camera.info = info.input ? `${info.input.width}x${info.input.height} → ${info.output.width}x${info.output.height}` : `${info.output.width}x${info.output.height}`;
      Object.assign(outage, { attempts: 0, warned: false, caught: false });
      if (stream.state !== 'streaming') showStatus(this.node, 'connecting', this.t('status.connecting'));
    });
    stream.on('camera-lost', ({ attempt, error }) => {
      if (this.stream !== stream || !this.camera) return;
      this.camera.lost = true;
      outage.attempts++;
      const cause = outageCause(error.message);
      showStatus(this.node, 'retrying', this.t('status.cameraLost', { attempt, cause: cause ? `: ${cause}` : '' }));
      if (!outage.warned) {
        outage.warned = true;
        this.node.warn(this.t('warn.cameraLost', { reason: error.message }));
      }
      if (outage.attempts >= CATCHABLE_AFTER_ATTEMPTS && !outage.caught) {
        outage.caught = true;
        reportError(this.node, new RoboflowError(error.code, this.t('error.stillFailing', { attempts: outage.attempts, reason: error.message })), { topic: this.topic, payload: null });
        showStatus(this.node, 'retrying', this.t('status.cameraLost', { attempt, cause: cause ? `: ${cause}` : '' }));
      }
    });
    stream.on('camera-ended', () => {
      if (this.stream !== stream) return;
      showStatus(this.node, 'done', this.t('status.cameraEnded', { frames: this.results }));
    });
    stream.on('warning', (text) => this.node.warn(text));
  }

  /** Stops the running stream; `detach` leaves a self-hosted pipeline running, to re-attach to after a restart. */
  private async stop(mode: 'terminate' | 'detach' = 'terminate'): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    this.budget?.running(this.node.id, false);
    clearInterval(this.ticker);
    this.ticker = undefined;
    if (!stream) return;
    stream.removeAllListeners();
    if (stream instanceof PipelineStream) {
      if (mode === 'detach') {
        await stream.detach();
      } else {
        await stream.stop();
        await this.pipelines.remove();
      }
      return;
    }
    await stream.stop();
  }

  /** "streaming 10 fps · 85 ms · 3 dropped": the rate, and the delay and drops when there are any to tell. */
  private liveStatus(): string {
    const stats = this.metrics.snapshot();
    // Before the first result there is no rate to tell ("0 fps" would alarm).
    let text = this.results === 0 ? this.t('status.started') : this.t('status.streaming', { fps: this.fps });
    if (this.gating && this.gateNote?.state === 'open') {
      const closing = this.gateNote.closesInMs;
      // Quiet for a couple of seconds: say when the session (and its billing) ends.
      if (closing !== undefined && closing < this.gateQuietMs - 2_000) return this.t('status.closingIn', { seconds: Math.ceil(closing / 1000) });
      text += ` (${this.t(this.gating === 'motion' ? 'status.motion' : 'status.gate')})`;
    }
    if (this.relay) text += ` · ${this.relay}`;
    if (this.camera?.info) return `${text} · ${this.t('status.camera', { size: this.camera.info })}`;
    if (this.stream instanceof PipelineStream) {
      // The server measures its own latency (frame read to result).
      const latency = this.pipelineStats?.latencyMs?.endToEnd;
      if (this.stream.paused) return this.t('status.paused');
      return latency !== null && latency !== undefined ? `${text} · ${this.t('status.latency', { ms: Math.round(latency) })} · ${this.t('status.pipeline')}` : `${text} · ${this.t('status.pipeline')}`;
    }
    if (stats.latencyMs) text += ` · ${this.t('status.latency', { ms: stats.latencyMs.p50 })}`;
    if (stats.dropped > 0) text += ` · ${this.t('status.dropped', { dropped: stats.dropped })}`;
    return text;
  }

  /** "camera not reachable: connection refused, retrying (3)": why, and that it goes on. */
  private retryStatus(error: RoboflowError, attempt: number): string {
    if (error.code === 'stream-limit') return this.t('status.streamLimit', { limit: error.message.split(':')[0].toLowerCase(), attempt });
    if (error.code === 'source-ended') return this.t('status.sourceEnded', { attempt });
    const camera = this.config.source === 'rtsp' || this.config.source === 'mjpeg';
    const cause = outageCause(`${error.message} ${error.detail ?? ''}`);
    let reason: string | undefined;
    if (error.code === 'gateway-timeout') reason = camera ? this.t('reason.camera') : this.t('reason.coldStart');
    else if (error.code === 'webrtc') return this.t('status.retrying', { reason: this.t('reason.webrtc'), attempt });
    else if (cause && ['network', 'timeout', 'unavailable', 'bad-gateway', 'server-error'].includes(error.code)) reason = this.t('reason.server');
    // A session the server dropped: nothing more useful to say than that it comes back.
    if (!reason) return this.t('status.reconnecting', { attempt });
    return this.t('status.retrying', { reason: cause ? `${reason}: ${cause}` : reason, attempt });
  }

  /** Measures the result rate from the moment the stream is live (again). */
  private startTicker(): void {
    clearInterval(this.ticker);
    this.resultsAtLastTick = this.results;
    this.ticker = setInterval(() => {
      this.fps = this.results - this.resultsAtLastTick;
      this.resultsAtLastTick = this.results;
      // A gate that just closed owns the status while its session winds down.
      if (this.stream?.state === 'streaming' && !this.gateClosed()) showStatus(this.node, 'live', this.liveStatus());
    }, 1_000);
  }

  private wire(stream: LiveStream): void {
    const send: Send = (msg) => this.node.send(msg);
    stream.on('state', (state) => {
      if (this.stream !== stream) return;
      // Only an open session is billed: what the budget counts.
      this.budget?.running(this.node.id, state === 'streaming');
      if (this.camera?.lost && state !== 'streaming') {
        // The camera's own status ("camera unreachable, retrying") says more.
      } else if (state === 'connecting') showStatus(this.node, 'connecting', this.t('status.connecting'));
      else if (state === 'renewing') showStatus(this.node, 'connecting', this.t('status.renewing'));
      else if (state === 'streaming') {
        this.metrics.sessionStarted(this.reconnecting);
        this.reconnecting = false;
        this.outage = { attempts: 0, warned: false, caught: false };
        // Before its first second there is no rate to show yet ("0 fps" would alarm).
        this.startTicker();
        showStatus(this.node, 'live', this.t('status.started'));
      } else if ((state === 'idle' || state === 'stopped') && this.gateClosed()) this.showGateWatching();
      else if (state === 'idle' && !this.camera) showStatus(this.node, 'idle', this.t('status.waitingFrames'));
      if (state === 'failed') void this.serial(() => this.nextFile());
    });
    stream.on('reconnecting', ({ attempt, error }) => {
      this.reconnecting = true;
      this.outage.attempts++;
      showStatus(this.node, 'retrying', this.retryStatus(error, attempt));
      // Said once per outage, not at every attempt; and once to Catch nodes if it lasts.
      if (!this.outage.warned) {
        this.outage.warned = true;
        this.node.warn(this.t('warn.reconnecting', { attempt, reason: error.message }));
      }
      if (this.outage.attempts >= CATCHABLE_AFTER_ATTEMPTS && !this.outage.caught) {
        this.outage.caught = true;
        const still = new RoboflowError(error.code, this.t('error.stillFailing', { attempts: this.outage.attempts, reason: error.message }), { status: error.status });
        reportError(this.node, still, { topic: this.topic, payload: null });
        showStatus(this.node, 'retrying', this.retryStatus(error, attempt));
      }
    });
    stream.on('connected', ({ path }) => {
      this.relay = path?.path === 'relay' ? this.t('status.relay', { protocol: path.protocol ?? '?' }) : undefined;
    });
    stream.on('progress', ({ percent }) => showStatus(this.node, 'busy', this.t('status.uploading', { percent })));
    stream.on('result', (result) => {
      this.results++;
      this.metrics.result(result.frameId);
      const msg: NodeMessage = { topic: this.topic, payload: result.data, frame: result.metadata, errors: result.errors };
      if (this.currentFile) msg.file = this.currentFile;
      send([msg, null]);
      // Node-RED delivers a message in a setImmediate of its own; this one runs after it,
      // i.e. after the next node's synchronous work on the message. Only then may the
      // server go on (ack pacing; ignored in realtime mode).
      setImmediate(() => stream.ack(result.frameId));
    });
    stream.on('video-frame', (frame) => {
      send([null, { topic: this.topic, payload: frame.data, frame: { index: frame.index, width: frame.width, height: frame.height, received_at: frame.receivedAt.toISOString() } }]);
    });
    stream.on('complete', ({ reason }) => {
      const frames = this.results;
      showStatus(this.node, 'done', reason ? this.t('status.timeout', { frames }) : this.t('status.complete', { frames }));
      const msg: NodeMessage = { topic: this.topic, payload: { frames, terminationReason: reason }, complete: true };
      if (this.currentFile) msg.file = this.currentFile;
      send([msg, null]);
      void this.serial(() => this.nextFile());
    });
    stream.on('error', (error) => {
      if (this.stream !== stream) return;
      reportError(this.node, error, { topic: this.topic, payload: null, ...(this.currentFile ? { file: this.currentFile } : {}) });
    });
  }

  /** Starts the next queued file (from the control queue), skipping those that cannot start. */
  private async nextFile(): Promise<void> {
    for (let next = this.fileQueue.shift(); next && !this.closing; next = this.fileQueue.shift()) {
      try {
        await this.start(next);
        return;
      } catch (error) {
        reportError(this.node, error, next);
      }
    }
  }
}
