#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { redact } from '../lib/redact';
import { parseBehaviour, type Behaviour } from './behaviour';
import { createLocalServer } from './app';
import { generateSceneVideo } from './media/generate';
import { SCENES, getScene } from './media/scenes';

const HELP = `roboflow-local-server: a local Roboflow-compatible server for offline development

Usage:
  roboflow-local-server [options]
  roboflow-local-server make-video <out.mp4> [--scene NAME] [--loops N] [--codec h264|mjpeg]

Options:
  --port N             HTTP port (0 = any free port; default 9001)
  --api-key KEY        the one API key accepted (default local-dev-key)
  --host ADDRESS       address to listen on (default 127.0.0.1)
  --rtsp-port N        also serve simulated RTSP cameras on this port (0 = any)
  --rtsp-auth U:P      require these RTSP credentials
  --cameras A,B        camera scenes to simulate (default door,two-squares)
  --use-cases A,B      Vision Events use cases that exist from the start (default demo)
  --data-dir DIR       where uploads and generated media go (default: a temp dir)
  --no-gzip            send results as plain JSON even with data outputs (by default they
                       are gzipped then, as the hosted service does; the official JS SDK
                       cannot read gzip)
  --self-hosted        behave as a self-hosted Inference server: no idle watchdog, output
                       names checked per frame (errors "Output '<name>' not found")
  --session-timeout S  end every session after at most S seconds (termination_reason
                       "timeout_reached"), whatever processing_timeout the client sent
  --no-pull            pull no cameras: answer 400 to rtsp_url / mjpeg_url, as a server
                       that cannot reach them
  --pipeline-ids       answer with pipeline ids (as the older self-hosted route does)
  --no-batch-processing
                       answer as a workspace whose plan lacks Batch Processing (402 on
                       every Batch Processing call)
  --stream-api         serve the InferencePipeline API (/inference_pipelines/...), as a
                       self-hosted server started with ENABLE_STREAM_API=True
  --stream-limit N     concurrent streams allowed (default 10)
  --faults JSON        behaviour and faults, e.g. '{"dropAfterFrames": 50}'
                       (also ROBOFLOW_LOCAL_FAULTS; change at run time: POST /local/faults)
  --quiet              log nothing but the listening line
  --help               this text

Scenes: ${Object.keys(SCENES).join(', ')}
`;

function fail(message: string): never {
  process.stderr.write(`roboflow-local-server: ${message}\n`);
  process.exit(2);
}

async function makeVideo(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { scene: { type: 'string', default: 'two-squares' }, loops: { type: 'string', default: '1' }, codec: { type: 'string', default: 'h264' } },
  });
  const out = positionals[0] ?? fail('make-video needs an output path');
  const codec = values.codec === 'mjpeg' ? 'mjpeg' : values.codec === 'h264' ? 'h264' : fail('--codec must be h264 or mjpeg');
  await generateSceneVideo(getScene(values.scene), out, { loops: Number(values.loops), codec });
  process.stdout.write(`wrote ${out}\n`);
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: '9001' },
      'api-key': { type: 'string', default: 'local-dev-key' },
      host: { type: 'string', default: '127.0.0.1' },
      'rtsp-port': { type: 'string' },
      'rtsp-auth': { type: 'string' },
      cameras: { type: 'string' },
      'use-cases': { type: 'string' },
      'data-dir': { type: 'string' },
      gzip: { type: 'boolean', default: false },
      'no-gzip': { type: 'boolean', default: false },
      'self-hosted': { type: 'boolean', default: false },
      'session-timeout': { type: 'string' },
      'no-pull': { type: 'boolean', default: false },
      'pipeline-ids': { type: 'boolean', default: false },
      'no-batch-processing': { type: 'boolean', default: false },
      'stream-api': { type: 'boolean', default: false },
      'stream-limit': { type: 'string' },
      faults: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number, got ${values.port}`);
  const behaviour: Partial<Behaviour> = {};
  try {
    if (process.env.ROBOFLOW_LOCAL_FAULTS) Object.assign(behaviour, parseBehaviour(JSON.parse(process.env.ROBOFLOW_LOCAL_FAULTS)));
    if (values.faults) Object.assign(behaviour, parseBehaviour(JSON.parse(values.faults)));
  } catch (error) {
    fail(`invalid faults: ${(error as Error).message}`);
  }
  if (values.gzip && values['no-gzip']) fail('--gzip and --no-gzip contradict each other');
  // --gzip is the default now (kept so older scripts still start).
  if (values.gzip) behaviour.gzip = true;
  if (values['no-gzip']) behaviour.gzip = false;
  if (values['self-hosted']) behaviour.selfHosted = true;
  if (values['no-pull']) behaviour.noPull = true;
  if (values['session-timeout'] !== undefined) {
    const seconds = Number(values['session-timeout']);
    if (!Number.isFinite(seconds) || seconds <= 0) fail(`--session-timeout must be a number of seconds > 0, got ${values['session-timeout']}`);
    behaviour.sessionTimeoutSec = seconds;
  }
  if (values['pipeline-ids']) behaviour.pipelineIds = true;
  if (values['no-batch-processing']) behaviour.batchProcessing = false;
  if (values['stream-api']) behaviour.streamApi = true;
  if (values['stream-limit'] !== undefined) behaviour.streamLimit = Number(values['stream-limit']);
  let rtspAuth: { username: string; password: string } | undefined;
  if (values['rtsp-auth']) {
    const [username, ...rest] = values['rtsp-auth'].split(':');
    if (!username || rest.length === 0) fail('--rtsp-auth must be user:password');
    rtspAuth = { username, password: rest.join(':') };
  }
  const list = (text: string | undefined): string[] | undefined =>
    text === undefined
      ? undefined
      : text
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean);
  const quiet = values.quiet;
  const server = await createLocalServer({
    port,
    host: values.host,
    apiKey: values['api-key'],
    behaviour,
    rtspPort: values['rtsp-port'] === undefined ? undefined : Number(values['rtsp-port']),
    rtspAuth,
    cameras: list(values.cameras),
    useCases: list(values['use-cases']),
    dataDir: values['data-dir'],
    log: (line) => {
      if (!quiet) process.stderr.write(`[local-server] ${line}\n`);
    },
  });
  process.stdout.write(`listening on ${server.url}\n`);
  if (!quiet) {
    // What a user pastes into the Roboflow config node and the Stream node, exactly.
    // The default demo key is no secret; a key given with --api-key is never echoed.
    process.stdout.write(`API key: ${server.apiKey === 'local-dev-key' ? server.apiKey : 'the one given with --api-key'}\n`);
    process.stdout.write(`Roboflow config: Service "Local server", port ${server.port} (Server URL and API URL ${server.url})\n`);
    for (const name of server.cameraFiles.keys()) {
      process.stdout.write(`camera ${name}: ${server.rtsp ? `${server.rtsp.url(name, false)}  ` : ''}${server.url}/local/cameras/${name}.mjpeg\n`);
    }
  }
  // Whatever way the process ends, its ffmpeg children and temp dir end with it.
  process.on('exit', () => server.closeNow());
  const crash = (error: unknown): void => {
    process.stderr.write(`[local-server] fatal: ${redact((error as Error)?.stack ?? String(error))}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    if (!quiet) process.stderr.write(`[local-server] ${signal}: stopping\n`);
    const timer = setTimeout(() => process.exit(1), 5_000);
    void server.close().then(() => {
      clearTimeout(timer);
      // Exit explicitly: the WebRTC native module can crash during natural teardown.
      process.exit(0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

const argv = process.argv.slice(2);
(argv[0] === 'make-video' ? makeVideo(argv.slice(1)) : serve(argv)).catch((error: unknown) => {
  fail((error as Error).message);
});
