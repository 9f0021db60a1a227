import { strict as assert } from 'node:assert';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { PACKAGE_NAME, REPO_ROOT, exampleFlows, freePort, installIntoUserDir, prepareUserDir, startNodeRed, type NodeRedRuntime, type RunningNodeRed } from '../../scripts/lib/node-red-process';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneVideo } from '../helpers/media';
import { packedPackage } from '../helpers/packed';
import { secret } from '../helpers/secrets';
import {
  clickDeploy,
  dragOntoWorkspace,
  filterPalette,
  lowContrastTexts,
  markedInvalid,
  type LowContrast,
  openEditDialog,
  openEditor,
  paletteNode,
  screenshot,
  setDarkScheme,
  showsInvalid,
  typeInto,
  visibleFields,
  visibleLabelTexts,
  workspaceNode,
  type EditorSession,
} from './editor-page';

/**
 * The editor as a person meets it: a real Node-RED with the packed package installed,
 * Debian's Chromium driven by playwright-core. Palette, drag and drop, every edit dialog
 * with its validation, a config node made from the Stream node's dialog with "Test
 * connection", the help sidebar, every example imported from Import > Examples (the
 * second and later ones with *Import copy*, reusing the one config node) and deployed
 * against the local server on its documented ports, as the examples ship.
 *
 * One body per Node-RED tested (4.1 on Node.js 20, 5 on Node.js 24). On Node-RED 5 every
 * dialog, the help sidebar and the running flow are also checked in its dark colour
 * scheme: each text must keep a contrast of 4.5:1 (WCAG AA) against what it is drawn on,
 * and a second screenshot (`<name>-dark.png`) is taken. Screenshots go to
 * .tmp/editor-screenshots/<node-red-N>/; with ROBOFLOW_UPDATE_DOCS=1 the suite marked
 * `docs` copies the ones the README shows to docs/ (`npm run docs:screenshots`).
 */

const DOCS = join(REPO_ROOT, 'docs');
/** The screenshots the README shows, by the name this suite saves them under. */
/**
 * The colour scheme of the README's screenshots: Node-RED 5.0's default is light (its View >
 * Appearance setting defaults to "light"; "dark" and "auto" are a user's choice).
 */
const DOCS_SCHEME: 'light' | 'dark' = 'light';
const DOC_SHOTS = [
  'editor-palette',
  'editor-config-dialog',
  'editor-stream-dialog',
  'editor-video-job-dialog',
  'editor-vision-event-dialog',
  'editor-objects-dialog',
  'editor-objects-preview',
  'editor-example-running',
];
const WRONG_KEY = secret('wrong-editor-key-42');
const CAMERA_PASSWORD = secret('door-camera-pass-77');
/** WCAG AA for normal text. */
const MIN_CONTRAST = 4.5;
/** The id the examples give their one shared config node. */
const SHARED_CONFIG = 'roboflow-local';

/** The flow nodes of the package, as the palette must show them. */
const PALETTE = [
  { type: 'roboflow-stream', label: 'Roboflow Stream', icon: 'roboflow-stream.svg' },
  { type: 'roboflow-video-job', label: 'Roboflow Video Job', icon: 'roboflow-video-job.svg' },
  { type: 'roboflow-vision-event', label: 'Roboflow Vision Event', icon: 'roboflow-vision-event.svg' },
  { type: 'roboflow-objects', label: 'Roboflow Objects', icon: 'roboflow-objects.svg' },
  { type: 'roboflow-workflow', label: 'Roboflow Workflow', icon: 'roboflow-workflow.svg' },
];

/** The Stream dialog's rows, by what the chosen source, capture and gate show. */
const STREAM_HEAD = ['name', 'roboflow', 'workflowMode', 'workspace', 'workflow', 'workflowVersion', 'imageInput', 'dataOutputs', 'streamOutputs', 'parameters', 'source'];
const STREAM_TAIL = ['realtime', 'processingTimeout', 'disableSinks', 'start'];
const LOCAL_CAPTURE = ['maxFps', 'maxSize', 'hwaccel'];
const CAMERA_LOGIN = ['cameraUser', 'cameraPassword'];
const STREAM_FIELDS: Record<string, string[]> = {
  'rtsp, read by Node-RED': [...STREAM_HEAD, 'capture', 'url', ...CAMERA_LOGIN, 'rtspTransport', ...LOCAL_CAPTURE, 'gate', ...STREAM_TAIL],
  'rtsp, read by the server': [...STREAM_HEAD, 'capture', 'url', ...CAMERA_LOGIN, 'gate', ...STREAM_TAIL],
  'mjpeg, read by Node-RED': [...STREAM_HEAD, 'capture', 'url', ...CAMERA_LOGIN, ...LOCAL_CAPTURE, 'gate', ...STREAM_TAIL],
  'USB camera': [...STREAM_HEAD, 'url', ...LOCAL_CAPTURE, 'gate', ...STREAM_TAIL],
  'video file': [...STREAM_HEAD, 'url', 'gate', ...STREAM_TAIL],
  'video file, played as a live camera': [...STREAM_HEAD, 'url', 'loop', ...LOCAL_CAPTURE, 'gate', ...STREAM_TAIL],
  'frames from the flow': [...STREAM_HEAD, 'gate', ...STREAM_TAIL],
  'motion gate': [...STREAM_HEAD, 'capture', 'url', ...CAMERA_LOGIN, 'rtspTransport', ...LOCAL_CAPTURE, 'gate', 'quietTime', 'preRoll', 'motionArea', 'motionIgnore', 'gateClasses', ...STREAM_TAIL],
  'gate by message': [...STREAM_HEAD, 'capture', 'url', ...CAMERA_LOGIN, 'rtspTransport', ...LOCAL_CAPTURE, 'gate', 'quietTime', 'gateClasses', ...STREAM_TAIL],
};

export interface EditorSuiteOptions {
  /** This suite's screenshots are the ones the README shows. */
  docs: boolean;
  /** Check every dialog, the help sidebar and the running flow in the dark colour scheme too (Node-RED 5). */
  darkScheme: boolean;
}

export function describeEditor(name: string, runtime: () => NodeRedRuntime, options: EditorSuiteOptions): void {
  describe(`the editor in a real browser: ${name}`, function () {
    this.timeout(300_000);
    let server: RunningServer;
    let nodeRed: RunningNodeRed;
    let editor: EditorSession;
    let page: Page;
    let userDir: string;
    let chosen: NodeRedRuntime;
    let shots: string;
    /** Texts hard to read in the dark scheme, by screenshot: asserted once, at the end, so that one colour does not stop the walk through the editor. */
    const unreadable: Record<string, LowContrast[]> = {};

    /** Every text of `readable` legible in Node-RED 5's dark scheme (recorded for the last test). */
    async function checkDarkScheme(what: string, readable: Locator): Promise<void> {
      if (!options.darkScheme) return;
      await setDarkScheme(page, true);
      try {
        const found = await lowContrastTexts(readable, MIN_CONTRAST);
        if (found.length > 0) unreadable[what] = found;
      } finally {
        await setDarkScheme(page, false);
      }
    }

    /**
     * A screenshot as the editor shows it by default, and on Node-RED 5 the same in its dark
     * scheme (`<shot>-dark.png`), where every text of `readable` (the open dialog, the
     * sidebar, the flow) must be legible.
     */
    async function shoot(shot: string, readable?: Locator, clip?: Locator): Promise<void> {
      await screenshot(page, shots, shot, clip);
      if (!options.darkScheme) return;
      await setDarkScheme(page, true);
      try {
        await screenshot(page, shots, `${shot}-dark`, clip);
      } finally {
        await setDarkScheme(page, false);
      }
      if (readable) await checkDarkScheme(shot, readable);
    }

    before(async function () {
      this.timeout(600_000);
      chosen = runtime();
      if (options.darkScheme) assert.ok(chosen.major >= 5, 'only Node-RED 5 has a dark scheme');
      shots = join(REPO_ROOT, '.tmp', 'editor-screenshots', `node-red-${chosen.major}`);
      rmSync(shots, { recursive: true, force: true });
      // The examples ship pointing at the local server's default ports; the test imports
      // them unchanged, so it needs those ports.
      for (const port of [9001, 8554]) {
        assert.equal(await freePort(port), port, `port ${port} is taken: the editor test runs the examples as shipped, against a local server on 9001 (RTSP 8554). Stop whatever uses it (npm start?)`);
      }
      server = await startLocalServer(['--port', '9001', '--rtsp-port', '8554']);
      userDir = join(mkdtempSync(join(tmpdir(), 'roboflow-editor-')), 'user-dir');
      prepareUserDir(userDir);
      installIntoUserDir(userDir, packedPackage(), chosen);
      nodeRed = await startNodeRed(userDir, { runtime: chosen, env: { ROBOFLOW_DEMO_VIDEO: await sceneVideo('door', { loops: 1 }) } });
      assert.match(nodeRed.output.join(''), new RegExp(`Node-RED version: v${chosen.nodeRedVersion.replace(/\./g, '\\.')}`));
      console.log(`      (${chosen.label})`);
      editor = await openEditor(nodeRed.url);
      page = editor.page;
    });
    afterEach(async function () {
      if (this.currentTest?.state === 'failed') {
        await screenshot(page, shots, `failed-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 60)}`).catch(() => undefined);
        console.log(`Node-RED: ${nodeRed?.output.join('').slice(-3000)}`);
      }
    });
    after(async () => {
      await editor?.close();
      if (nodeRed) await nodeRed.stop();
      await server?.stop();
    });

    it('the Roboflow palette category shows every node with its label and icon, also when filtered by "roboflow"', async () => {
      const category = page.locator('#red-ui-palette-container-Roboflow');
      await category.waitFor();
      const types = await category.locator('.red-ui-palette-node').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-palette-type')));
      assert.deepEqual(
        types,
        PALETTE.map((node) => node.type),
      );
      for (const { type, label, icon } of PALETTE) {
        const node = paletteNode(page, type);
        assert.equal((await node.locator('.red-ui-palette-label').innerText()).replace(/\s+/g, ' ').trim(), label);
        const iconUrl = await node.locator('.red-ui-palette-icon').evaluate((element) => getComputedStyle(element).backgroundImage);
        assert.match(iconUrl, new RegExp(`icons/${PACKAGE_NAME}/${icon}`), `${type} shows its own icon`);
        const served = await page.request.get(`${nodeRed.url}/icons/${PACKAGE_NAME}/${icon}`);
        assert.equal(served.status(), 200, `${icon} is served`);
        assert.match(served.headers()['content-type'] ?? '', /svg/);
      }
      await filterPalette(page, 'roboflow');
      const visibleTypes = (): Promise<Array<string | null>> =>
        page.locator('#red-ui-palette .red-ui-palette-node:visible').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-palette-type')));
      const expected = JSON.stringify(PALETTE.map((node) => node.type));
      // The palette filters as the user types; wait for it to settle on the package's nodes.
      const settled = await eventually(async () => (JSON.stringify(await visibleTypes()) === expected ? 'yes' : undefined), 5_000, 'the palette filtered').catch(() => undefined);
      assert.deepEqual(
        settled ? JSON.parse(expected) : await visibleTypes(),
        PALETTE.map((node) => node.type),
        'filtering the palette by "roboflow" finds every node of the package',
      );
      assert.deepEqual(editor.pageErrors, []);
    });

    it('a Stream node dragged onto the workspace: a config node made from its dialog, test connection', async () => {
      await dragOntoWorkspace(page, 'roboflow-stream', 260, 100);
      const node = workspaceNode(page, 'Roboflow Stream');
      await node.waitFor();
      assert.ok(await showsInvalid(node), 'a fresh Stream node is marked as not configured');
      const dialog = await openEditDialog(page, node);
      assert.deepEqual(await visibleFields(dialog, 'node-input'), STREAM_FIELDS['rtsp, read by Node-RED'], 'a new node reads an RTSP camera itself');
      assertLabelled(await visibleLabelTexts(dialog));

      // No config node yet: the select offers to add one; the + button opens its dialog.
      assert.match(await page.locator('#node-input-roboflow option:checked').innerText(), /Add new Roboflow/);
      await page.locator('#node-input-btn-roboflow-add').click();
      const config = page.locator('.red-ui-tray').last();
      await config.locator('#node-config-input-apiKey').waitFor();
      await page.waitForTimeout(400);
      assert.equal(await page.locator('#node-config-input-apiKey').getAttribute('type'), 'password', 'the API key is a password field');
      assert.deepEqual(await visibleFields(config, 'node-config-input'), ['name', 'apiKey', 'preset', 'serverUrl', 'apiUrl', 'region', 'plan', 'budgetLimit', 'creditMinutes']);
      assertLabelled(await visibleLabelTexts(config));
      // The "Local server" preset fills in both URLs.
      await page.locator('#node-config-input-preset').selectOption('local');
      assert.equal(await page.locator('#node-config-input-serverUrl').inputValue(), 'http://127.0.0.1:9001');
      assert.equal(await page.locator('#node-config-input-apiUrl').inputValue(), 'http://127.0.0.1:9001');
      await typeInto(page, 'node-config-input-name', 'local server');

      await typeInto(page, 'node-config-input-apiKey', WRONG_KEY);
      const result = page.locator('#node-config-test-result');
      await page.locator('#node-config-test').click();
      await eventually(async () => (await result.innerText()).startsWith('✘'), 15_000, 'the test result for a wrong key');
      const failure = await result.innerText();
      assert.match(failure, /API key/i, `a wrong key is named as the problem: ${failure}`);
      assert.ok(!failure.includes(WRONG_KEY), 'the result never shows the key');
      // The failure, in red, must read on Node-RED 5's dark background too.
      await shoot('editor-config-dialog-failed', config);

      await typeInto(page, 'node-config-input-apiKey', API_KEY);
      await page.locator('#node-config-test').click();
      await eventually(async () => (await result.innerText()).startsWith('✔'), 15_000, 'the test result for the right key');
      assert.match(await result.innerText(), /API key accepted by http:\/\/127\.0\.0\.1:9001; streaming server http:\/\/127\.0\.0\.1:9001 reachable/);
      await shoot('editor-config-dialog', config);
      await page.locator('#node-config-dialog-ok').click();
      await page.locator('#node-config-dialog-ok').waitFor({ state: 'detached' });
      assert.equal(await page.locator('#node-input-roboflow option:checked').innerText(), 'local server', 'back in the Stream dialog, the new config node is selected');
    });

    it('the Stream dialog: each source shows its own fields; the workflow, camera, capture and gate fields validate', async () => {
      const dialog = page.locator('.red-ui-tray').last();
      const fields = (): Promise<string[]> => visibleFields(dialog, 'node-input');
      assert.ok(await markedInvalid(page, 'node-input-workflow'), 'an empty workflow id is marked invalid');
      assert.ok(await markedInvalid(page, 'node-input-workspace'), 'an empty workspace is marked invalid');
      assert.ok(await markedInvalid(page, 'node-input-url'), 'an RTSP source without a URL is marked invalid');
      // A pasted specification replaces workspace, id and version.
      await page.locator('#node-input-workflowMode').selectOption('spec');
      assert.deepEqual((await fields()).slice(0, 5), ['name', 'roboflow', 'workflowMode', 'workflowSpec', 'imageInput']);
      await page.locator('#node-input-workflowMode').selectOption('saved');

      // Each source, as its option reads in the select.
      const source = page.locator('#node-input-source');
      for (const [value, label, expected] of [
        ['mjpeg', /MJPEG/i, 'mjpeg, read by Node-RED'],
        ['device', /USB camera/i, 'USB camera'],
        ['file', /video file/i, 'video file'],
        ['replay', /played as a live camera/i, 'video file, played as a live camera'],
        ['frames', /frames|images/i, 'frames from the flow'],
        ['rtsp', /RTSP/i, 'rtsp, read by Node-RED'],
      ] as const) {
        await source.selectOption(value);
        assert.match(await source.locator('option:checked').innerText(), label, `the ${value} option reads as ${String(label)}`);
        assert.deepEqual(await fields(), STREAM_FIELDS[expected], `the fields of "${expected}"`);
        assertLabelled(await visibleLabelTexts(dialog));
      }
      assert.equal(await page.locator('#node-input-capture').inputValue(), 'local', 'a new node reads the camera itself ("Read camera on": Node-RED)');

      // Read by Roboflow's server: only rtsp:// reaches it, and the local-capture fields go.
      await page.locator('#node-input-capture').selectOption('server');
      assert.deepEqual(await fields(), STREAM_FIELDS['rtsp, read by the server']);
      await typeInto(page, 'node-input-url', 'http://127.0.0.1:9001/door');
      assert.ok(await markedInvalid(page, 'node-input-url'), 'an http URL for a camera the server reads is marked invalid');
      await page.locator('#node-input-capture').selectOption('local');
      assert.equal(await markedInvalid(page, 'node-input-url'), false, 'Node-RED reads http cameras through ffmpeg');
      await typeInto(page, 'node-input-url', 'ftp://127.0.0.1/door');
      assert.ok(await markedInvalid(page, 'node-input-url'), 'an ftp URL is marked invalid');

      // The camera's login, kept in Node-RED's credentials.
      assert.equal(await page.locator('#node-input-cameraPassword').getAttribute('type'), 'password', 'the camera password is a password field');
      assert.deepEqual(await page.locator('#node-input-rtspTransport option').evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value)), ['tcp', 'udp']);

      // Local capture limits.
      for (const [field, bad, good] of [
        ['maxFps', 'fast', '10'],
        ['maxSize', '10', '1280'],
      ]) {
        await typeInto(page, `node-input-${field}`, bad);
        assert.ok(await markedInvalid(page, `node-input-${field}`), `${field} "${bad}" is marked invalid`);
        await typeInto(page, `node-input-${field}`, good);
        assert.equal(await markedInvalid(page, `node-input-${field}`), false, `${field} "${good}" is valid`);
      }

      // The "Analyse" gate: on motion (quiet time, pre-roll, motion area, classes that keep it open) or by message.
      const gate = page.locator('#node-input-gate');
      await gate.selectOption('message');
      assert.deepEqual(await fields(), STREAM_FIELDS['gate by message']);
      await gate.selectOption('motion');
      assert.deepEqual(await fields(), STREAM_FIELDS['motion gate']);
      assertLabelled(await visibleLabelTexts(dialog));
      for (const [field, bad, good] of [
        ['quietTime', 'soon', '30'],
        ['preRoll', '11', '2'],
        ['motionArea', '0', '1'],
        ['motionIgnore', '[[[0,0],[320,0],[320,180]]]', '[[[0,0],[0.3,0],[0.3,1],[0,1]]]'],
        ['motionIgnore', '[[0,0]]', ''],
      ]) {
        await typeInto(page, `node-input-${field}`, bad);
        assert.ok(await markedInvalid(page, `node-input-${field}`), `${field} "${bad}" is marked invalid`);
        await typeInto(page, `node-input-${field}`, good);
        assert.equal(await markedInvalid(page, `node-input-${field}`), false, `${field} "${good}" is valid`);
      }
      await typeInto(page, 'node-input-gateClasses', 'person, car');
      await shoot('editor-stream-dialog-gate', dialog);
      await gate.selectOption('none');

      // Session length: empty is the service maximum; 0 is not a length.
      await typeInto(page, 'node-input-processingTimeout', '0');
      assert.ok(await markedInvalid(page, 'node-input-processingTimeout'), 'a session length of 0 is marked invalid');
      await typeInto(page, 'node-input-processingTimeout', '');
      assert.equal(await markedInvalid(page, 'node-input-processingTimeout'), false, 'an empty session length is valid');
      await typeInto(page, 'node-input-processingTimeout', '3600');
    });

    it('the Stream node built in its dialog: deployed with a camera login, it streams; neither key nor password leaves the credentials', async () => {
      const dialog = page.locator('.red-ui-tray').last();
      await typeInto(page, 'node-input-name', 'Door camera');
      await typeInto(page, 'node-input-workspace', 'demo');
      await typeInto(page, 'node-input-workflow', 'detect-colors');
      await typeInto(page, 'node-input-url', 'rtsp://127.0.0.1:8554/door');
      // The local server's camera asks for no login: ffmpeg only sends one when challenged.
      await typeInto(page, 'node-input-cameraUser', 'viewer');
      await typeInto(page, 'node-input-cameraPassword', CAMERA_PASSWORD);
      for (const field of ['node-input-workflow', 'node-input-workspace', 'node-input-url']) assert.equal(await markedInvalid(page, field), false, `${field} is valid once filled in`);
      await shoot('editor-stream-dialog', dialog);
      await page.locator('#node-dialog-ok').click();
      await workspaceNode(page, 'Door camera').waitFor();
      assert.equal(await showsInvalid(workspaceNode(page, 'Door camera')), false, 'the configured node is no longer marked');
    });

    it('a Video Job node: every field and its validation', async () => {
      await dragOntoWorkspace(page, 'roboflow-video-job', 260, 200);
      const node = workspaceNode(page, 'Roboflow Video Job');
      await node.waitFor();
      const dialog = await openEditDialog(page, node);
      assert.deepEqual(await visibleFields(dialog, 'node-input'), [
        'name',
        'roboflow',
        'target',
        'workspace',
        'workflow',
        'jobApi',
        'workflowVersion',
        'disableSinks',
        'notificationsUrl',
        'fps',
        'pollInterval',
      ]);
      assertLabelled(await visibleLabelTexts(dialog));
      assert.equal(await page.locator('#node-input-roboflow option:checked').innerText(), 'local server', 'the one config node is preselected');
      assert.ok(await markedInvalid(page, 'node-input-workflow'), 'an empty workflow id is marked invalid');
      await typeInto(page, 'node-input-fps', 'fast');
      assert.ok(await markedInvalid(page, 'node-input-fps'), 'a frame rate that is not a number is marked invalid');
      await typeInto(page, 'node-input-fps', '5');
      await typeInto(page, 'node-input-notificationsUrl', 'ftp://example.com/hook');
      assert.ok(await markedInvalid(page, 'node-input-notificationsUrl'), 'a notifications URL that is not http(s) is marked invalid');
      await typeInto(page, 'node-input-notificationsUrl', '');
      assert.equal(await markedInvalid(page, 'node-input-notificationsUrl'), false, 'no notifications URL is fine');
      await page.locator('#node-input-target').selectOption('model');
      assert.deepEqual(await visibleFields(dialog, 'node-input'), ['name', 'roboflow', 'target', 'model', 'fps', 'pollInterval']);
      await typeInto(page, 'node-input-model', 'not a model id');
      assert.ok(await markedInvalid(page, 'node-input-model'), 'a model id that is not project/version is marked invalid');
      await page.locator('#node-input-target').selectOption('workflow');
      await typeInto(page, 'node-input-workspace', 'demo');
      await typeInto(page, 'node-input-workflow', 'detect-colors');
      assert.equal(await markedInvalid(page, 'node-input-workflow'), false);
      await shoot('editor-video-job-dialog', dialog);
      await page.locator('#node-dialog-ok').click();
      assert.equal(await showsInvalid(workspaceNode(page, 'detect-colors')), false);
    });

    it('a Vision Event node: every field and its validation', async () => {
      await dragOntoWorkspace(page, 'roboflow-vision-event', 560, 100);
      const node = workspaceNode(page, 'Vision Event');
      await node.waitFor();
      assert.ok(await showsInvalid(node), 'a fresh Vision Event node is marked as not configured');
      const dialog = await openEditDialog(page, node);
      assert.deepEqual(await visibleFields(dialog, 'node-input'), ['name', 'roboflow', 'useCase', 'createUseCase', 'eventType', 'deviceId', 'streamId', 'cooldown']);
      assertLabelled(await visibleLabelTexts(dialog));
      assert.ok(await markedInvalid(page, 'node-input-useCase'), 'an empty use case is marked invalid');
      await typeInto(page, 'node-input-useCase', 'front-door');
      assert.equal(await markedInvalid(page, 'node-input-useCase'), false);
      await page.locator('#node-input-eventType').selectOption('safety_alert');
      await typeInto(page, 'node-input-cooldown', 'soon');
      assert.ok(await markedInvalid(page, 'node-input-cooldown'), 'a cooldown that is not a number is marked invalid');
      await typeInto(page, 'node-input-cooldown', '2');
      await shoot('editor-vision-event-dialog', dialog);
      await page.locator('#node-dialog-ok').click();
      assert.equal(await showsInvalid(workspaceNode(page, 'front-door: safety_alert')), false);
    });

    it('a Roboflow Objects node: every field and its validation', async () => {
      await dragOntoWorkspace(page, 'roboflow-objects', 560, 200);
      const node = workspaceNode(page, 'Roboflow Objects');
      await node.waitFor();
      const dialog = await openEditDialog(page, node);
      assert.deepEqual(await visibleFields(dialog, 'node-input'), [
        'name',
        'predictions',
        'classes',
        'minConfidence',
        'anchor',
        'leaveAfter',
        'updateEvery',
        'clock',
        'areas',
        'alertClasses',
        'alertConfidence',
        'alertDwell',
        'alertZones',
        'alertRate',
        'snapshot',
      ]);
      assertLabelled(await visibleLabelTexts(dialog));
      await typeInto(page, 'node-input-areas', '{"zones": [');
      assert.ok(await markedInvalid(page, 'node-input-areas'), 'zones that are not JSON are marked invalid');
      await typeInto(page, 'node-input-areas', '{"zones": [{"name": "door", "polygon": [[430, 200], [640, 200], [640, 360], [430, 360]]}]}');
      assert.equal(await markedInvalid(page, 'node-input-areas'), false);
      await typeInto(page, 'node-input-alertConfidence', 'high');
      assert.ok(await markedInvalid(page, 'node-input-alertConfidence'), 'an alert confidence that is neither a number nor JSON is marked invalid');
      await typeInto(page, 'node-input-alertConfidence', '{"person": 0.8, "*": 0.5}');
      assert.equal(await markedInvalid(page, 'node-input-alertConfidence'), false);
      await typeInto(page, 'node-input-alertZones', 'door');
      await typeInto(page, 'node-input-name', 'people at the door');
      await shoot('editor-objects-dialog', dialog);
      await page.locator('#node-dialog-ok').click();
      assert.equal(await showsInvalid(workspaceNode(page, 'people at the door')), false);
    });

    it('a Roboflow Workflow node: a saved workflow, a specification or a model; the filter gives it a second output', async () => {
      await dragOntoWorkspace(page, 'roboflow-workflow', 860, 100);
      const node = workspaceNode(page, 'Roboflow Workflow');
      await node.waitFor();
      assert.ok(await showsInvalid(node), 'a fresh Workflow node is marked as not configured');
      const dialog = await openEditDialog(page, node);
      const fields = (): Promise<string[]> => visibleFields(dialog, 'node-input');
      assert.deepEqual(await fields(), ['name', 'roboflow', 'run', 'workspace', 'workflow', 'workflowVersion', 'imageInput', 'parameters', 'disableSinks', 'concurrency', 'filter']);
      assertLabelled(await visibleLabelTexts(dialog));
      assert.equal(await page.locator('#node-input-roboflow option:checked').innerText(), 'local server', 'the one config node is preselected');
      assert.ok(await markedInvalid(page, 'node-input-workflow'), 'an empty workflow id is marked invalid');
      await page.locator('#node-input-run').selectOption('spec');
      assert.deepEqual(await fields(), ['name', 'roboflow', 'run', 'workflowSpec', 'imageInput', 'parameters', 'disableSinks', 'concurrency', 'filter']);
      await page.locator('#node-input-run').selectOption('model');
      assert.deepEqual(await fields(), ['name', 'roboflow', 'run', 'model', 'concurrency', 'filter']);
      await typeInto(page, 'node-input-model', 'not a model id');
      assert.ok(await markedInvalid(page, 'node-input-model'), 'a model id that is not project/version is marked invalid');
      await page.locator('#node-input-run').selectOption('saved');
      await typeInto(page, 'node-input-workspace', 'demo');
      await typeInto(page, 'node-input-workflow', 'detect-colors');
      assert.equal(await markedInvalid(page, 'node-input-workflow'), false);
      await typeInto(page, 'node-input-concurrency', '0');
      assert.ok(await markedInvalid(page, 'node-input-concurrency'), 'no request at once is marked invalid');
      await typeInto(page, 'node-input-concurrency', '4');
      await page.locator('#node-input-filter').check();
      assert.deepEqual((await fields()).slice(-3), ['filter', 'classes', 'minConfidence']);
      await typeInto(page, 'node-input-minConfidence', '1.5');
      assert.ok(await markedInvalid(page, 'node-input-minConfidence'), 'a confidence above 1 is marked invalid');
      await typeInto(page, 'node-input-minConfidence', '0.5');
      await typeInto(page, 'node-input-classes', 'person');
      await typeInto(page, 'node-input-name', 'person?');
      await shoot('editor-workflow-dialog', dialog);
      await page.locator('#node-dialog-ok').click();
      const saved = workspaceNode(page, 'person?');
      assert.equal(await showsInvalid(saved), false);
      await eventually(async () => (await saved.locator('.red-ui-flow-port-output').count()) === 2, 5_000, 'two outputs with the filter on: images with a detection, and the rest');
    });

    it("the help sidebar shows each node's help", async () => {
      const labels: Record<string, string> = {
        'roboflow-stream': 'Door camera',
        'roboflow-video-job': 'detect-colors',
        'roboflow-vision-event': 'front-door: safety_alert',
        'roboflow-objects': 'people at the door',
        'roboflow-workflow': 'person?',
      };
      for (const { type } of PALETTE) {
        await workspaceNode(page, labels[type]).locator('.red-ui-flow-node').first().click();
        await showSidebar(page, 'help');
        const help = page.locator('.red-ui-sidebar-help-stack');
        const expected = firstHelpSentence(type);
        await eventually(async () => (await help.innerText()).includes(expected), 10_000, `the help of ${type}`);
        if (type === 'roboflow-stream') await shoot('editor-help-sidebar', help);
        else await checkDarkScheme(`the help of ${type}`, help);
      }
      await showSidebar(page, 'info');
    });

    it('what was built in the dialogs deploys and streams; the key and the camera password stay out of the exported flows', async () => {
      const text = await clickDeploy(page);
      assert.match(text, /Successfully deployed/, text);
      await eventually(async () => /^streaming [1-9]/.test(await statusOf(workspaceNode(page, 'Door camera'))), 60_000, 'the Door camera node streaming frames');
      await filterPalette(page, 'roboflow');
      // Back to the top left of the workspace (opening a dialog scrolls the edited node into view).
      await page.locator('#red-ui-workspace-chart').evaluate((chart) => chart.scrollTo(0, 0));
      await shoot('editor-palette', page.locator('#red-ui-workspace-chart'));
      const flows = JSON.stringify(await nodeRed.getFlows());
      assert.match(flows, /"type":"roboflow-config"/);
      assert.ok(!flows.includes(API_KEY), 'the flows Node-RED exports carry no key');
      assert.ok(!flows.includes(CAMERA_PASSWORD), 'the flows Node-RED exports carry no camera password');
      for (const file of readdirSync(userDir).filter((name) => name.endsWith('.json'))) {
        const content = readFileSync(join(userDir, file), 'utf8');
        assert.ok(!content.includes(API_KEY), `${file} stores no key in clear`);
        assert.ok(!content.includes(CAMERA_PASSWORD), `${file} stores no camera password in clear`);
      }
    });

    it('Import > Examples lists every example; the first brings the config node, each later one is an *Import copy* that reuses it; all deploy and run', async () => {
      const examples = exampleFlows();
      const tabLabel = (index: number): string => (examples[index].flow.find((node) => node.type === 'tab') as { label: string }).label;
      const tree = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
      const openExamples = async (): Promise<void> => {
        await page.locator('#red-ui-header-button-sidemenu').click();
        await page.locator('#menu-item-import').click();
        // The package's folder: Node-RED 5 keeps it open from the last import, 4 does not; the
        // tab and the folder may still be opening when first looked at (a busy machine), so
        // look again until the first example shows, and only click what is not open yet.
        const examplesTab = page.locator('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples');
        const folder = tree.locator('.red-ui-treeList-label', { hasText: PACKAGE_NAME });
        const first = tree.locator('.red-ui-treeList-label', { hasText: examples[0].file.replace(/\.json$/, '') });
        await eventually(
          async () => {
            if (await first.isVisible()) return true;
            if (!(await tree.isVisible())) await examplesTab.click();
            // A click folds an open folder again: only a folded one (its item lacks "expanded").
            else if ((await folder.isVisible()) && !(await folder.evaluate((label) => label.closest('li')?.classList.contains('expanded') ?? false))) await folder.click();
            return first.waitFor({ timeout: 2_000 }).then(
              () => true,
              () => false,
            );
          },
          30_000,
          'the package folder open in Import > Examples',
        ).catch(async (error: unknown) => {
          const html = await page
            .locator('#red-ui-clipboard-dialog')
            .innerHTML({ timeout: 1_000 })
            .catch(() => '(no import dialog)');
          throw new Error(`${(error as Error).message}\nthe import dialog: ${html.slice(0, 4000)}`);
        });
      };
      /** Picks an example in the open dialog and imports it (the folder may still be unfolding: click until Import is enabled). */
      const importExample = async (name: string): Promise<void> => {
        const ok = page.locator('#red-ui-clipboard-dialog-ok');
        await eventually(
          async () => {
            await tree.locator('.red-ui-treeList-label', { hasText: name }).click();
            return ok.isEnabled();
          },
          10_000,
          `${name} selected in the Import dialog`,
        );
        await ok.click();
      };
      await openExamples();
      const ours = examples.map(({ file }) => file.replace(/\.json$/, ''));
      await tree.locator('.red-ui-treeList-label', { hasText: ours[0] }).waitFor();
      const listed = await tree.locator('.red-ui-treeList-label:visible').allInnerTexts();
      assert.deepEqual(
        listed.filter((name) => ours.includes(name.trim())).map((name) => name.trim()),
        ours,
        'every example is listed, in order',
      );
      await page.locator('#red-ui-clipboard-dialog-cancel').click();

      for (const [index, { file, flow }] of examples.entries()) {
        const name = file.replace(/\.json$/, '');
        assert.ok(
          flow.some((node) => node.id === SHARED_CONFIG && node.type === 'roboflow-config'),
          `${name} brings the shared config node "${SHARED_CONFIG}"`,
        );
        const tabsBefore = await page.locator('#red-ui-workspace-tabs .red-ui-tab').count();
        await openExamples();
        await importExample(name);
        if (index > 0) {
          // The config node is already in the workspace: Node-RED asks, the README says "Import copy".
          const notice = page.locator('.red-ui-notification', { hasText: 'Some of the nodes you are importing already exist' });
          await notice.waitFor();
          await notice.locator('button', { hasText: 'Import copy' }).click();
        }
        await page.locator('.red-ui-notification', { hasText: 'Imported' }).last().waitFor();
        // The example's flow is a new tab in the tab bar. (Node-RED adds an imported tab
        // without switching to it: the user clicks it.)
        await eventually(async () => (await page.locator('#red-ui-workspace-tabs .red-ui-tab').count()) === tabsBefore + 1, 5_000, `${name}: its tab in the tab bar`);
        await page
          .locator('#red-ui-workspace-tabs .red-ui-tab', { hasText: tabLabel(index) })
          .first()
          .click();
        const users = await configUsersOnActiveTab(page);
        assert.ok(users.length > 0, `${name}: Roboflow nodes on its tab`);
        assert.deepEqual([...new Set(users.map((user) => user.roboflow))], [SHARED_CONFIG], `${name}: every Roboflow node uses the one shared config node`);
        assert.equal(await countConfigNodes(page), 2, `${name}: no second copy of the shared config node (the one built in the dialog, and the examples' one)`);
        // Imported as shipped, no node is marked as not configured (the deploy would warn).
        for (const user of users) assert.equal(await showsInvalid(workspaceNode(page, user.label)), false, `${name}: ${user.label} is not marked`);
        if (index === 0) {
          // Exports never carry a key: the first example's config node gets it, once.
          await openEditDialog(page, workspaceNode(page, users[0].label));
          await page.locator('#node-input-btn-roboflow-edit').click();
          await page.locator('#node-config-input-apiKey').waitFor();
          await page.waitForTimeout(400);
          await typeInto(page, 'node-config-input-apiKey', API_KEY);
          await page.locator('#node-config-dialog-ok').click();
          await page.locator('#node-config-dialog-ok').waitFor({ state: 'detached' });
          await page.locator('#node-dialog-ok').click();
          await page.locator('.red-ui-tray').first().waitFor({ state: 'detached' });
        }
      }

      const text = await clickDeploy(page);
      assert.match(text, /Successfully deployed/, `every example deploys without a warning: ${text}`);

      // Example 1, the person at the door: detections in the Debug sidebar, a streaming status.
      await page
        .locator('#red-ui-workspace-tabs .red-ui-tab', { hasText: tabLabel(0) })
        .first()
        .click();
      await showSidebar(page, 'debug');
      const debugFrom = (nodeName: string): Locator => page.locator('.red-ui-debug-msg').filter({ has: page.locator('.red-ui-debug-msg-name', { hasText: nodeName }) });
      await eventually(async () => (await debugFrom('detections').count()) >= 2, 60_000, 'detections from example 1 in the Debug sidebar');
      await eventually(async () => /^streaming [1-9]/.test(await statusOf(workspaceNode(page, 'Door camera'))), 30_000, 'example 1 streaming frames');
      // Example 3 serves the latest annotated frame over HTTP, as its comment says.
      await eventually(
        async () => {
          const response = await fetch(`${nodeRed.url}/roboflow-demo/latest.jpg`);
          const body = Buffer.from(await response.arrayBuffer());
          return response.ok && (response.headers.get('content-type') ?? '').includes('jpeg') && body[0] === 0xff && body[1] === 0xd8;
        },
        60_000,
        'example 3 serving an annotated JPEG',
      );
      await shoot('editor-example-running', page.locator('#red-ui-workspace-chart'));

      // Example 2: the inject button runs a video job; its summary reaches the sidebar.
      await page
        .locator('#red-ui-workspace-tabs .red-ui-tab', { hasText: tabLabel(1) })
        .first()
        .click();
      await workspaceNode(page, 'process the demo video').locator('.red-ui-flow-node-button').click();
      await eventually(async () => (await debugFrom('job results').count()) >= 1, 90_000, 'the video job results in the Debug sidebar');

      // Example 5: one alert per visit of the person at the door, with a snapshot.
      await eventually(async () => (await debugFrom('alert (replace with a notification)').count()) >= 1, 60_000, 'an alert from example 5 in the Debug sidebar');

      // Its Objects node's dialog draws the zone and the line over the camera's latest frame.
      await page
        .locator('#red-ui-workspace-tabs .red-ui-tab', { hasText: tabLabel(4) })
        .first()
        .click();
      const objectsDialog = await openEditDialog(page, workspaceNode(page, 'people at the door'));
      const preview = page.locator('#roboflow-objects-preview');
      await preview.locator('img').waitFor({ state: 'visible', timeout: 15_000 });
      assert.deepEqual(await preview.locator('img').evaluate((img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]), [640, 360], "the camera's frame");
      assert.equal(await preview.locator('polygon.roboflow-zone').count(), 1, 'the door zone drawn');
      assert.equal(await preview.locator('line.roboflow-line').count(), 1, 'the threshold line drawn');
      await preview.scrollIntoViewIfNeeded();
      await shoot('editor-objects-preview', objectsDialog);
      await page.locator('#node-dialog-cancel').click();

      // Example 4: a person in view is logged as a Vision Event.
      await eventually(async () => (await server.json<{ events: unknown[] }>('/local/vision-events')).events.length > 0, 60_000, 'a Vision Event from example 4');
      // Example 6: each snapshot goes to the workflow (whether a person is on it depends on the moment).
      await eventually(async () => (await server.requestCount('workflow_inference')) > 0, 30_000, 'example 6 asking the workflow about a snapshot');
      assert.equal(await debugFrom('errors').count(), 0, 'example 6 caught no error');

      // No node of any example reports an error, on any tab.
      assert.deepEqual(await redStatuses(page), [], 'no red status anywhere');
      assert.doesNotMatch(nodeRed.output.join(''), /\[error\]/, nodeRed.output.join('').slice(-2000));
      assert.deepEqual(editor.pageErrors, []);
    });

    if (options.darkScheme) {
      it("in Node-RED 5's dark scheme every dialog, the help sidebar and the running flow read well (contrast 4.5:1)", () => {
        assert.ok(Object.keys(unreadable).length === 0, `texts hard to read on a dark background (see the -dark.png screenshots): ${JSON.stringify(unreadable, null, 1)}`);
      });
    }

    if (options.docs) {
      it('the README shows the screenshots this suite takes, and each is in docs/', async () => {
        const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
        for (const shot of DOC_SHOTS) {
          const taken = join(shots, DOCS_SCHEME === 'dark' ? `${shot}-dark.png` : `${shot}.png`);
          assert.ok(existsSync(taken), `${taken} was taken by this run`);
          if (process.env.ROBOFLOW_UPDATE_DOCS === '1') copyFileSync(taken, join(DOCS, `${shot}.png`));
        }
        for (const shot of DOC_SHOTS) {
          assert.ok(existsSync(join(DOCS, `${shot}.png`)), `docs/${shot}.png is committed`);
          assert.ok(readme.includes(`docs/${shot}.png`), `the README shows docs/${shot}.png`);
        }
      });
    }
  });
}

/** Every visible label has a text of its own, not an empty span or a raw catalogue key. */
function assertLabelled(labels: string[]): void {
  for (const text of labels) {
    assert.ok(text.length > 0, `a label is empty: ${JSON.stringify(labels)}`);
    assert.doesNotMatch(text, /^[\w-]+\.[\w.-]+$/, `a label shows its catalogue key: ${text}`);
  }
}

async function statusOf(node: Locator): Promise<string> {
  const label = node.locator('.red-ui-flow-node-status-label');
  return (await label.count()) ? ((await label.textContent()) ?? '').trim() : '';
}

/**
 * Opens a sidebar tab with the editor's own action, what its keyboard shortcuts and menu
 * entries run: Node-RED 4 shows tabs above the sidebar, Node-RED 5 buttons below it.
 */
async function showSidebar(page: Page, tab: 'help' | 'debug' | 'info'): Promise<void> {
  await page.evaluate((name) => (window as unknown as { RED: { actions: { invoke(action: string): void } } }).RED.actions.invoke(`core:show-${name}-tab`), tab);
}

/** The first sentence of a node's help, from the help file the package ships (dist/, as built). */
function firstHelpSentence(type: string): string {
  const html = readFileSync(join(REPO_ROOT, 'dist', 'nodes', 'node-red', 'locales', 'en-US', `${type}.html`), 'utf8');
  const paragraph = /<p>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '';
  return paragraph
    .replace(/<[^>]+>/g, '')
    .replace(/\s+/g, ' ')
    .split('. ')[0]
    .trim();
}

interface EditorRed {
  RED: {
    workspaces: { active(): string };
    nodes: {
      filterNodes(filter: { z?: string }): Array<{ id: string; type: string; roboflow?: string; status?: { fill?: string; text?: string } }>;
      eachConfig(callback: (config: { type: string }) => void): void;
    };
  };
}

/** The nodes on the active tab that use a Roboflow config node: their config and the label the editor draws. */
async function configUsersOnActiveTab(page: Page): Promise<Array<{ roboflow: string; label: string }>> {
  return page.evaluate(() => {
    const red = (window as unknown as EditorRed).RED;
    return red.nodes
      .filterNodes({ z: red.workspaces.active() })
      .filter((node) => typeof node.roboflow === 'string')
      .map((node) => ({ roboflow: node.roboflow ?? '', label: document.getElementById(node.id)?.querySelector('.red-ui-flow-node-label')?.textContent?.trim() ?? '' }));
  });
}

async function countConfigNodes(page: Page): Promise<number> {
  return page.evaluate(() => {
    let count = 0;
    (window as unknown as EditorRed).RED.nodes.eachConfig((config) => {
      if (config.type === 'roboflow-config') count++;
    });
    return count;
  });
}

/** Nodes on every tab whose status is red, as the editor keeps them (it draws only the open tab). */
async function redStatuses(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    (window as unknown as EditorRed).RED.nodes
      .filterNodes({})
      .filter((node) => node.status?.fill === 'red')
      .map((node) => `${node.type} ${node.id}: ${node.status?.text ?? ''}`),
  );
}
