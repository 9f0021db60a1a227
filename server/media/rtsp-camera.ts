import type { ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFile, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { requireFfmpeg } from '../../lib/media/ffmpeg';
import { spawnChild } from './children';

/**
 * Simulated IP cameras over RTSP, so flows and tests can use a camera source offline.
 * Each camera loops a video file: ffmpeg reads it at its native rate and sends H.264
 * RTP packets to a local UDP port (no re-encoding); this server speaks RTSP to clients
 * (OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN; RTP interleaved over the TCP connection,
 * as Roboflow's workers request) and relays the packets to every playing client.
 * Optional Basic authentication, to exercise `rtsp://user:password@host/...` URLs.
 */

/** Request bodies a camera accepts (RTSP clients send at most a short SET_PARAMETER or SDP). */
const MAX_REQUEST_BODY = 64 * 1024;

export interface CameraDefinition {
  name: string;
  file: string;
}

export interface RtspCameraOptions {
  port: number;
  host?: string;
  cameras: CameraDefinition[];
  /** Require these credentials (Basic). */
  auth?: { username: string; password: string };
  workDir: string;
  log?: (line: string) => void;
}

interface Client {
  socket: Socket;
  camera?: Camera;
  channel: number;
  playing: boolean;
  session: string;
}

class Camera {
  sdp = '';
  private ffmpeg: ChildProcess | undefined;
  private rtp: UdpSocket | undefined;
  private rtcp: UdpSocket | undefined;
  private stopped = false;
  readonly clients = new Set<Client>();

  constructor(
    readonly definition: CameraDefinition,
    private readonly workDir: string,
    private readonly log: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    const bind = (): Promise<UdpSocket> =>
      new Promise((resolve, reject) => {
        const socket = createSocket('udp4');
        socket.once('error', reject);
        socket.bind(0, '127.0.0.1', () => resolve(socket));
      });
    this.rtp = await bind();
    this.rtcp = await bind();
    this.rtp.on('message', (packet) => this.relay(packet));
    const sdpPath = join(this.workDir, `camera-${this.definition.name}.sdp`);
    await rm(sdpPath, { force: true });
    const target = `rtp://127.0.0.1:${this.rtp.address().port}?rtcpport=${this.rtcp.address().port}&pkt_size=1200`;
    const spawnFfmpeg = (): void => {
      if (this.stopped) return;
      const child = spawnChild(
        requireFfmpeg().path,
        ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', this.definition.file, '-an', '-c:v', 'copy', '-f', 'rtp', '-sdp_file', sdpPath, target],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      this.ffmpeg = child;
      let stderr = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (text: string) => (stderr = (stderr + text).slice(-1000)));
      child.on('close', (code) => {
        if (this.stopped) return;
        this.log(`camera ${this.definition.name}: ffmpeg exited (${code}) ${stderr.trim()}; restarting`);
        setTimeout(spawnFfmpeg, 1_000);
      });
    };
    spawnFfmpeg();
    for (let attempt = 0; attempt < 100 && !this.sdp; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      this.sdp = await readFile(sdpPath, 'utf8').catch(() => '');
    }
    if (!this.sdp) throw new Error(`camera ${this.definition.name}: ffmpeg produced no SDP for ${this.definition.file}`);
  }

  /** The SDP a client gets from DESCRIBE: our control URL, no fixed ports. */
  describe(): string {
    const lines = this.sdp.split(/\r?\n/).filter((line) => line && !line.startsWith('a=control'));
    const out: string[] = [];
    for (const line of lines) {
      if (line.startsWith('c=')) out.push('c=IN IP4 0.0.0.0');
      else if (line.startsWith('m=video')) out.push(line.replace(/^m=video \d+/, 'm=video 0'), 'a=control:streamid=0');
      else out.push(line);
      if (line.startsWith('t=')) out.push('a=control:*');
    }
    return out.join('\r\n') + '\r\n';
  }

  private relay(packet: Buffer): void {
    for (const client of this.clients) {
      if (!client.playing || client.socket.destroyed) continue;
      // A client that cannot keep up loses packets rather than growing our memory.
      if (client.socket.writableLength > 4 * 1024 * 1024) continue;
      const header = Buffer.allocUnsafe(4);
      header[0] = 0x24;
      header[1] = client.channel;
      header.writeUInt16BE(packet.byteLength, 2);
      client.socket.write(Buffer.concat([header, packet]));
    }
  }

  stop(): void {
    this.stopped = true;
    this.ffmpeg?.kill('SIGKILL');
    this.rtp?.close();
    this.rtcp?.close();
    for (const client of this.clients) client.socket.destroy();
  }
}

export class RtspCameraServer {
  private readonly cameras = new Map<string, Camera>();
  private server: Server | undefined;
  private readonly clients = new Set<Client>();
  private readonly log: (line: string) => void;
  port = 0;

  constructor(private readonly options: RtspCameraOptions) {
    this.log = options.log ?? (() => undefined);
  }

  async start(): Promise<number> {
    for (const definition of this.options.cameras) {
      const camera = new Camera(definition, this.options.workDir, this.log);
      await camera.start();
      this.cameras.set(definition.name, camera);
    }
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host ?? '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this.port;
  }

  url(name: string, credentials = true): string {
    const auth = credentials && this.options.auth ? `${encodeURIComponent(this.options.auth.username)}:${encodeURIComponent(this.options.auth.password)}@` : '';
    return `rtsp://${auth}127.0.0.1:${this.port}/${name}`;
  }

  get names(): string[] {
    return [...this.cameras.keys()];
  }

  /** Drops every connected viewer (a camera outage, for fault tests). */
  disconnectAll(): void {
    for (const client of this.clients) client.socket.destroy();
  }

  async stop(): Promise<void> {
    for (const camera of this.cameras.values()) camera.stop();
    for (const client of this.clients) client.socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(socket: Socket): void {
    const client: Client = { socket, channel: 0, playing: false, session: Math.random().toString(16).slice(2, 10) };
    this.clients.add(client);
    let buffer = Buffer.alloc(0);
    let refused = false;
    socket.on('data', (data: Buffer) => {
      if (refused) return;
      buffer = Buffer.concat([buffer, data]);
      for (;;) {
        if (buffer.length === 0) return;
        if (buffer[0] === 0x24) {
          // Interleaved data from the client (RTCP receiver reports): skip it.
          if (buffer.length < 4) return;
          const length = buffer.readUInt16BE(2);
          if (buffer.length < 4 + length) return;
          buffer = buffer.subarray(4 + length);
          continue;
        }
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buffer.length > 16_384) socket.destroy();
          return;
        }
        const head = buffer.subarray(0, end).toString('latin1');
        const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        const bodyLength = lengthMatch ? Number(lengthMatch[1]) : 0;
        if (bodyLength > MAX_REQUEST_BODY) {
          // Anyone who can reach the port could otherwise make us hold any amount of
          // memory for a body we never read: refuse before a byte of it is kept.
          const cseq = /\r\ncseq:\s*(\d+)/i.exec(head)?.[1] ?? '0';
          buffer = Buffer.alloc(0);
          refused = true;
          socket.end(`RTSP/1.0 413 Request Entity Too Large\r\nCSeq: ${cseq}\r\nServer: roboflow-local-server\r\n\r\n`, () => socket.destroy());
          return;
        }
        if (buffer.length < end + 4 + bodyLength) return;
        buffer = buffer.subarray(end + 4 + bodyLength);
        this.handle(client, head);
      }
    });
    const forget = (): void => {
      this.clients.delete(client);
      client.camera?.clients.delete(client);
    };
    socket.on('close', forget);
    socket.on('error', forget);
  }

  private handle(client: Client, head: string): void {
    const [requestLine, ...headerLines] = head.split('\r\n');
    const [method, uri] = requestLine.split(' ');
    const headers = new Map<string, string>();
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const cseq = headers.get('cseq') ?? '0';
    const reply = (status: string, extra: Record<string, string> = {}, body = ''): void => {
      const lines = [`RTSP/1.0 ${status}`, `CSeq: ${cseq}`, 'Server: roboflow-local-server'];
      for (const [key, value] of Object.entries(extra)) lines.push(`${key}: ${value}`);
      if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
      client.socket.write(lines.join('\r\n') + '\r\n\r\n' + body);
    };
    if (method === 'OPTIONS') {
      reply('200 OK', { Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER' });
      return;
    }
    if (method === 'GET_PARAMETER' || method === 'SET_PARAMETER') {
      reply('200 OK', { Session: client.session });
      return;
    }
    if (this.options.auth) {
      const expected = 'Basic ' + Buffer.from(`${this.options.auth.username}:${this.options.auth.password}`).toString('base64');
      if (headers.get('authorization') !== expected) {
        reply('401 Unauthorized', { 'WWW-Authenticate': 'Basic realm="roboflow-local-camera"' });
        return;
      }
    }
    let path = '';
    try {
      path = new URL(uri).pathname;
    } catch {
      reply('400 Bad Request');
      return;
    }
    const name = path.replace(/^\/+/, '').split('/')[0];
    const camera = this.cameras.get(name);
    if (method === 'DESCRIBE') {
      if (!camera) {
        reply('404 Not Found');
        return;
      }
      const base = uri.replace(/\/?$/, '/');
      reply('200 OK', { 'Content-Base': base, 'Content-Type': 'application/sdp' }, camera.describe());
      return;
    }
    if (method === 'SETUP') {
      if (!camera) {
        reply('404 Not Found');
        return;
      }
      const transport = headers.get('transport') ?? '';
      const interleaved = /interleaved=(\d+)(?:-(\d+))?/.exec(transport);
      if (!/RTP\/AVP\/TCP/i.test(transport) || !interleaved) {
        reply('461 Unsupported Transport');
        return;
      }
      client.camera = camera;
      client.channel = Number(interleaved[1]);
      camera.clients.add(client);
      const second = interleaved[2] ?? String(client.channel + 1);
      reply('200 OK', { Transport: `RTP/AVP/TCP;unicast;interleaved=${client.channel}-${second}`, Session: `${client.session};timeout=60` });
      return;
    }
    if (method === 'PLAY') {
      if (!client.camera) {
        reply('455 Method Not Valid in This State');
        return;
      }
      reply('200 OK', { Session: client.session, Range: 'npt=0.000-' });
      client.playing = true;
      return;
    }
    if (method === 'TEARDOWN') {
      client.playing = false;
      reply('200 OK', { Session: client.session });
      client.socket.end();
      return;
    }
    reply('501 Not Implemented');
  }
}
