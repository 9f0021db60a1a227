import { strict as assert } from 'node:assert';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { PACKAGE_NAME, REPO_ROOT, exampleFlows, freePort, prepareUserDir, startNodeRed, type RunningNodeRed } from '../../scripts/lib/node-red-process';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneVideo } from '../helpers/media';
import { installPackedPackage } from '../helpers/packed';
import { secret } from '../helpers/secrets';
import {
  clickDeploy,
  dragOntoWorkspace,
  filterPalette,
  markedInvalid,
  openEditDialog,
  openEditor,
  paletteNode,
  screenshot,
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
 * connection", every example imported from Import > Examples and deployed against the
 * local server (on its documented ports, as the examples ship), the help sidebar.
 *
 * Screenshots go to .tmp/editor-screenshots/; with ROBOFLOW_UPDATE_DOCS=1 the ones the
 * README shows are copied to docs/ (`npm run docs:screenshots`).
 */

const SHOTS = join(REPO_ROOT, '.tmp', 'editor-screenshots');
const DOCS = join(REPO_ROOT, 'docs');
/** The screenshots the README shows, by the name this test saves them under. */
const DOC_SHOTS = ['editor-palette', 'editor-config-dialog', 'editor-stream-dialog', 'editor-video-job-dialog', 'editor-vision-event-dialog', 'editor-objects-dialog', 'editor-objects-preview', 'editor-example-running'];
const WRONG_KEY = secret('wrong-editor-key-42');

/** The flow nodes of the package, as the palette must show them. */
const PALETTE = [
  { type: 'roboflow-stream', label: 'Roboflow Stream', icon: 'roboflow-stream.svg' },
  { type: 'roboflow-video-job', label: 'Roboflow Video Job', icon: 'roboflow-video-job.svg' },
  { type: 'roboflow-vision-event', label: 'Roboflow Vision Event', icon: 'roboflow-vision-event.svg' },
  { type: 'roboflow-objects', label: 'Roboflow Objects', icon: 'roboflow-objects.svg' },
  { type: 'roboflow-workflow', label: 'Roboflow Workflow', icon: 'roboflow-workflow.svg' },
];

describe('the editor in a real browser', function () {
  this.timeout(300_000);
  let server: RunningServer;
  let nodeRed: RunningNodeRed;
  let editor: EditorSession;
  let page: Page;
  let userDir: string;

  before(async function () {
    this.timeout(600_000);
    rmSync(SHOTS, { recursive: true, force: true });
    // The examples ship pointing at the local server's default ports; the test imports
    // them unchanged, so it needs those ports.
    for (const port of [9001, 8554]) {
      assert.equal(await freePort(port), port, `port ${port} is taken: the editor test runs the examples as shipped, against a local server on 9001 (RTSP 8554). Stop whatever uses it (npm start?)`);
    }
    server = await startLocalServer(['--port', '9001', '--rtsp-port', '8554']);
    userDir = join(mkdtempSync(join(tmpdir(), 'roboflow-editor-')), 'user-dir');
    prepareUserDir(userDir);
    installPackedPackage(userDir);
    nodeRed = await startNodeRed(userDir, { env: { ROBOFLOW_DEMO_VIDEO: await sceneVideo('door', { loops: 1 }) } });
    editor = await openEditor(nodeRed.url);
    page = editor.page;
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      await screenshot(page, SHOTS, `failed-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 60)}`).catch(() => undefined);
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
    assert.deepEqual(types, PALETTE.map((node) => node.type));
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
    const visibleTypes = (): Promise<Array<string | null>> => page.locator('#red-ui-palette .red-ui-palette-node:visible').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-palette-type')));
    const expected = JSON.stringify(PALETTE.map((node) => node.type));
    // The palette filters as the user types; wait for it to settle on the package's nodes.
    const settled = await eventually(async () => (JSON.stringify(await visibleTypes()) === expected ? 'yes' : undefined), 5_000, 'the palette filtered').catch(() => undefined);
    assert.deepEqual(settled ? JSON.parse(expected) : await visibleTypes(), PALETTE.map((node) => node.type), 'filtering the palette by "roboflow" finds every node of the package');
    assert.deepEqual(editor.pageErrors, []);
  });

  it('a Stream node dragged onto the workspace: every field, validation, a config node made from its dialog, test connection', async () => {
    await dragOntoWorkspace(page, 'roboflow-stream', 260, 100);
    const node = workspaceNode(page, 'Roboflow Stream');
    await node.waitFor();
    assert.ok(await showsInvalid(node), 'a fresh Stream node is marked as not configured');
    const dialog = await openEditDialog(page, node);

    assert.deepEqual(await visibleFields(dialog, 'node-input'), ['name', 'roboflow', 'workflowMode', 'workspace', 'workflow', 'imageInput', 'dataOutputs', 'streamOutputs', 'parameters', 'source', 'url', 'realtime', 'start']);
    assertLabelled(await visibleLabelTexts(dialog));
    assert.ok(await markedInvalid(page, 'node-input-workflow'), 'an empty workflow id is marked invalid');
    assert.ok(await markedInvalid(page, 'node-input-workspace'), 'an empty workspace is marked invalid');
    assert.ok(await markedInvalid(page, 'node-input-url'), 'an RTSP source without a URL is marked invalid');
    // A pasted specification replaces workspace + id.
    await page.locator('#node-input-workflowMode').selectOption('spec');
    assert.deepEqual((await visibleFields(dialog, 'node-input')).slice(0, 4), ['name', 'roboflow', 'workflowMode', 'workflowSpec']);
    await page.locator('#node-input-workflowMode').selectOption('saved');

    // No config node yet: the select offers to add one; the + button opens its dialog.
    assert.match(await page.locator('#node-input-roboflow option:checked').innerText(), /Add new Roboflow/);
    await page.locator('#node-input-btn-roboflow-add').click();
    const config = page.locator('.red-ui-tray').last();
    await config.locator('#node-config-input-apiKey').waitFor();
    await page.waitForTimeout(400);
    assert.equal(await page.locator('#node-config-input-apiKey').getAttribute('type'), 'password', 'the API key is a password field');
    assert.deepEqual(await visibleFields(config, 'node-config-input'), ['name', 'apiKey', 'preset', 'serverUrl', 'apiUrl', 'region', 'plan']);
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

    await typeInto(page, 'node-config-input-apiKey', API_KEY);
    await page.locator('#node-config-test').click();
    await eventually(async () => (await result.innerText()).startsWith('✔'), 15_000, 'the test result for the right key');
    assert.match(await result.innerText(), /API key accepted by http:\/\/127\.0\.0\.1:9001; streaming server http:\/\/127\.0\.0\.1:9001 reachable/);
    await screenshot(page, SHOTS, 'editor-config-dialog');
    await page.locator('#node-config-dialog-ok').click();

    // Back in the Stream dialog, with the new config node selected.
    await page.locator('#node-config-dialog-ok').waitFor({ state: 'detached' });
    assert.equal(await page.locator('#node-input-roboflow option:checked').innerText(), 'local server');
    await typeInto(page, 'node-input-name', 'Door camera');
    await typeInto(page, 'node-input-workspace', 'demo');
    await typeInto(page, 'node-input-workflow', 'detect-colors');
    await typeInto(page, 'node-input-url', 'http://127.0.0.1:9001/door');
    assert.ok(await markedInvalid(page, 'node-input-url'), 'an http URL for an RTSP source is marked invalid');
    await typeInto(page, 'node-input-url', 'rtsp://127.0.0.1:8554/door');
    for (const field of ['node-input-workflow', 'node-input-workspace', 'node-input-url']) assert.equal(await markedInvalid(page, field), false, `${field} is valid once filled in`);
    await screenshot(page, SHOTS, 'editor-stream-dialog');
    await page.locator('#node-dialog-ok').click();
    await workspaceNode(page, 'Door camera').waitFor();
    assert.equal(await showsInvalid(workspaceNode(page, 'Door camera')), false, 'the configured node is no longer marked');
  });

  it('a Video Job node: every field and its validation', async () => {
    await dragOntoWorkspace(page, 'roboflow-video-job', 260, 200);
    const node = workspaceNode(page, 'Roboflow Video Job');
    await node.waitFor();
    const dialog = await openEditDialog(page, node);
    assert.deepEqual(await visibleFields(dialog, 'node-input'), ['name', 'roboflow', 'target', 'workspace', 'workflow', 'fps', 'pollInterval']);
    assertLabelled(await visibleLabelTexts(dialog));
    assert.equal(await page.locator('#node-input-roboflow option:checked').innerText(), 'local server', 'the one config node is preselected');
    assert.ok(await markedInvalid(page, 'node-input-workflow'), 'an empty workflow id is marked invalid');
    await typeInto(page, 'node-input-fps', 'fast');
    assert.ok(await markedInvalid(page, 'node-input-fps'), 'a frame rate that is not a number is marked invalid');
    await typeInto(page, 'node-input-fps', '5');
    await page.locator('#node-input-target').selectOption('model');
    assert.deepEqual(await visibleFields(dialog, 'node-input'), ['name', 'roboflow', 'target', 'model', 'fps', 'pollInterval']);
    await typeInto(page, 'node-input-model', 'not a model id');
    assert.ok(await markedInvalid(page, 'node-input-model'), 'a model id that is not project/version is marked invalid');
    await page.locator('#node-input-target').selectOption('workflow');
    await typeInto(page, 'node-input-workspace', 'demo');
    await typeInto(page, 'node-input-workflow', 'detect-colors');
    assert.equal(await markedInvalid(page, 'node-input-workflow'), false);
    await screenshot(page, SHOTS, 'editor-video-job-dialog');
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
    await screenshot(page, SHOTS, 'editor-vision-event-dialog');
    await page.locator('#node-dialog-ok').click();
    assert.equal(await showsInvalid(workspaceNode(page, 'front-door: safety_alert')), false);
  });

  it('a Roboflow Objects node: every field and its validation', async () => {
    await dragOntoWorkspace(page, 'roboflow-objects', 560, 200);
    const node = workspaceNode(page, 'Roboflow Objects');
    await node.waitFor();
    const dialog = await openEditDialog(page, node);
    assert.deepEqual(await visibleFields(dialog, 'node-input'), ['name', 'predictions', 'classes', 'minConfidence', 'anchor', 'leaveAfter', 'updateEvery', 'clock', 'areas', 'alertClasses', 'alertConfidence', 'alertDwell', 'alertZones', 'alertRate', 'snapshot']);
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
    await screenshot(page, SHOTS, 'editor-objects-dialog');
    await page.locator('#node-dialog-ok').click();
    assert.equal(await showsInvalid(workspaceNode(page, 'people at the door')), false);
  });

  it('the help sidebar shows each node\'s help', async () => {
    for (const [type, label] of [['roboflow-stream', 'Door camera'], ['roboflow-video-job', 'detect-colors'], ['roboflow-vision-event', 'front-door: safety_alert'], ['roboflow-objects', 'people at the door']]) {
      await workspaceNode(page, label).locator('.red-ui-flow-node').first().click();
      await page.locator('#red-ui-tab-help-link-button').click();
      const help = page.locator('#red-ui-sidebar-content');
      const expected = firstHelpSentence(type);
      await eventually(async () => (await help.innerText()).includes(expected), 10_000, `the help of ${type}`);
    }
    await page.locator('#red-ui-tab-info-link-button').click();
  });

  it('what was built in the dialogs deploys and streams; the key stays out of the exported flows', async () => {
    const text = await clickDeploy(page);
    assert.match(text, /Successfully deployed/, text);
    await eventually(async () => /^streaming [1-9]/.test(await statusOf(workspaceNode(page, 'Door camera'))), 60_000, 'the Door camera node streaming frames');
    await filterPalette(page, 'roboflow');
    // Back to the top left of the workspace (opening a dialog scrolls the edited node into view).
    await page.locator('#red-ui-workspace-chart').evaluate((chart) => chart.scrollTo(0, 0));
    await screenshot(page, SHOTS, 'editor-palette');
    const flows = JSON.stringify(await nodeRed.getFlows());
    assert.match(flows, /"type":"roboflow-config"/);
    assert.ok(!flows.includes(API_KEY), 'the flows Node-RED exports carry no key');
    for (const file of readdirSync(userDir).filter((name) => name.endsWith('.json'))) {
      assert.ok(!readFileSync(join(userDir, file), 'utf8').includes(API_KEY), `${file} stores no key in clear`);
    }
  });

  it('Import > Examples lists every example of the package; each imports, gets its key and deploys without errors; results reach the Debug sidebar', async () => {
    const examples = exampleFlows();
    await page.locator('#red-ui-header-button-sidemenu').click();
    await page.locator('#menu-item-import').click();
    await page.locator('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples').click();
    const tree = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
    await tree.locator('.red-ui-treeList-label', { hasText: PACKAGE_NAME }).click();
    const ours = examples.map(({ file }) => file.replace(/\.json$/, ''));
    await tree.locator('.red-ui-treeList-label', { hasText: ours[0] }).waitFor();
    const listed = await tree.locator('.red-ui-treeList-label:visible').allInnerTexts();
    assert.deepEqual(listed.filter((name) => ours.includes(name.trim())).map((name) => name.trim()), ours, 'every example is listed, in order');
    await page.locator('#red-ui-clipboard-dialog-cancel').click();

    for (const { file, flow } of examples) {
      const name = file.replace(/\.json$/, '');
      await page.locator('#red-ui-header-button-sidemenu').click();
      await page.locator('#menu-item-import').click();
      await page.locator('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples').click();
      await tree.locator('.red-ui-treeList-label', { hasText: PACKAGE_NAME }).click();
      await tree.locator('.red-ui-treeList-label', { hasText: name }).click();
      await page.locator('#red-ui-clipboard-dialog-ok').click();
      await page.locator('.red-ui-notification', { hasText: 'Imported' }).last().waitFor();
      // The example opens on its own tab; its config node needs the key (exports never carry one).
      const tab = flow.find((node) => node.type === 'tab') as { label: string };
      await page.locator('.red-ui-workspace-chart-tab, #red-ui-workspace-tabs .red-ui-tab', { hasText: tab.label }).first().click();
      const user = flow.find((node) => typeof node.roboflow === 'string') as { name?: string };
      const label = await labelOfFirstRoboflowNode(page);
      assert.ok(label, `${name}: a Roboflow node on its tab (${user.name ?? ''})`);
      await openEditDialog(page, workspaceNode(page, label));
      await page.locator('#node-input-btn-roboflow-edit').click();
      await page.locator('#node-config-input-apiKey').waitFor();
      await page.waitForTimeout(400);
      await typeInto(page, 'node-config-input-apiKey', API_KEY);
      await page.locator('#node-config-dialog-ok').click();
      await page.locator('#node-config-dialog-ok').waitFor({ state: 'detached' });
      await page.locator('#node-dialog-ok').click();
      await page.waitForTimeout(300);
    }

    const text = await clickDeploy(page);
    assert.match(text, /Successfully deployed/, `every example deploys without a warning: ${text}`);

    // Example 1, the person at the door: detections in the Debug sidebar, a streaming status.
    await page.locator('#red-ui-workspace-tabs .red-ui-tab', { hasText: (examples[0].flow.find((node) => node.type === 'tab') as { label: string }).label }).first().click();
    await page.locator('#red-ui-tab-debug-link-button').click();
    const debugFrom = (nodeName: string): Locator => page.locator('.red-ui-debug-msg').filter({ has: page.locator('.red-ui-debug-msg-name', { hasText: nodeName }) });
    await eventually(async () => (await debugFrom('detections').count()) >= 2, 60_000, 'detections from example 1 in the Debug sidebar');
    await eventually(async () => /^streaming [1-9]/.test(await statusOf(workspaceNode(page, 'Door camera'))), 30_000, 'example 1 streaming frames');
    // Example 3 serves the latest annotated frame over HTTP, as its comment says.
    await eventually(async () => {
      const response = await fetch(`${nodeRed.url}/roboflow-demo/latest.jpg`);
      const body = Buffer.from(await response.arrayBuffer());
      return response.ok && (response.headers.get('content-type') ?? '').includes('jpeg') && body[0] === 0xff && body[1] === 0xd8;
    }, 60_000, 'example 3 serving an annotated JPEG');
    await screenshot(page, SHOTS, 'editor-example-running');

    // Example 2: the inject button runs a video job; its summary reaches the sidebar.
    const jobTab = (examples[1].flow.find((node) => node.type === 'tab') as { label: string }).label;
    await page.locator('#red-ui-workspace-tabs .red-ui-tab', { hasText: jobTab }).first().click();
    await workspaceNode(page, 'process the demo video').locator('.red-ui-flow-node-button').click();
    await eventually(async () => (await debugFrom('job results').count()) >= 1, 90_000, 'the video job results in the Debug sidebar');

    // Example 5: one alert per visit of the person at the door, with a snapshot.
    await eventually(async () => (await debugFrom('alert (replace with a notification)').count()) >= 1, 60_000, 'an alert from example 5 in the Debug sidebar');

    // Its Objects node's dialog draws the zone and the line over the camera's latest frame.
    const objectsTab = (examples[4].flow.find((node) => node.type === 'tab') as { label: string }).label;
    await page.locator('#red-ui-workspace-tabs .red-ui-tab', { hasText: objectsTab }).first().click();
    await openEditDialog(page, workspaceNode(page, 'people at the door'));
    const preview = page.locator('#roboflow-objects-preview');
    await preview.locator('img').waitFor({ state: 'visible', timeout: 15_000 });
    assert.deepEqual(await preview.locator('img').evaluate((img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]), [640, 360], "the camera's frame");
    assert.equal(await preview.locator('polygon.roboflow-zone').count(), 1, 'the door zone drawn');
    assert.equal(await preview.locator('line.roboflow-line').count(), 1, 'the threshold line drawn');
    await preview.scrollIntoViewIfNeeded();
    await screenshot(page, SHOTS, 'editor-objects-preview');
    await page.locator('#node-dialog-cancel').click();

    // Example 4: a person in view is logged as a Vision Event.
    await eventually(async () => (await server.json<{ events: unknown[] }>('/local/vision-events')).events.length > 0, 60_000, 'a Vision Event from example 4');

    // No node of any example reports an error.
    const red = await page.locator('.red-ui-flow-node-status-dot-red, .red-ui-flow-node-status-ring-red').count();
    assert.equal(red, 0, 'no red status on the visible tab');
    assert.doesNotMatch(nodeRed.output.join(''), /\[error\]/, nodeRed.output.join('').slice(-2000));
    assert.deepEqual(editor.pageErrors, []);
  });

  it('the README shows the screenshots this test takes, and each is in docs/', async () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    for (const name of DOC_SHOTS) {
      assert.ok(existsSync(join(SHOTS, `${name}.png`)), `${name}.png was taken by this run`);
      if (process.env.ROBOFLOW_UPDATE_DOCS === '1') copyFileSync(join(SHOTS, `${name}.png`), join(DOCS, `${name}.png`));
    }
    for (const name of DOC_SHOTS) {
      assert.ok(existsSync(join(DOCS, `${name}.png`)), `docs/${name}.png is committed`);
      assert.ok(readme.includes(`docs/${name}.png`), `the README shows docs/${name}.png`);
    }
  });
});

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

/** The first sentence of a node's help, from the package's help file. */
function firstHelpSentence(type: string): string {
  const html = readFileSync(join(REPO_ROOT, 'nodes', 'node-red', 'locales', 'en-US', `${type}.html`), 'utf8');
  const paragraph = /<p>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '';
  return paragraph.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').split('. ')[0].trim();
}

/** The label the editor shows for the first node on the active tab that uses a Roboflow config node. */
async function labelOfFirstRoboflowNode(page: Page): Promise<string> {
  return page.evaluate(() => {
    // The editor's own API gives the label it draws (RED is the editor's global).
    const red = (window as unknown as { RED: { workspaces: { active(): string }; nodes: { filterNodes(filter: { z: string }): Array<{ id: string; roboflow?: string }> } } }).RED;
    const node = red.nodes.filterNodes({ z: red.workspaces.active() }).find((candidate) => typeof candidate.roboflow === 'string' && candidate.roboflow !== '');
    if (!node) return '';
    const group = document.getElementById(node.id);
    return group?.querySelector('.red-ui-flow-node-label')?.textContent?.trim() ?? '';
  });
}
