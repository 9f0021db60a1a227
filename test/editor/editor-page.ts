import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { tapOutput } from '../../scripts/lib/output-tap';

/**
 * The Node-RED editor in Debian's Chromium, driven the way a person uses it: palette,
 * drag and drop, double-click, dialogs, menus, the sidebar. Only what a user sees is read
 * back (classes that draw the red border or the warning triangle, texts, notifications).
 */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Flags for a closed network and a root user (see the machine notes): no sandbox, no
// background requests to Google's hosts, a fresh profile per launch.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface EditorSession {
  browser: Browser;
  page: Page;
  /** Uncaught exceptions in the page (a broken node definition shows up here). */
  pageErrors: string[];
  close(): Promise<void>;
}

export async function openEditor(url: string): Promise<EditorSession> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  // tsx compiles with esbuild's keepNames: a function declared inside a callback sent to
  // the page (page.evaluate) calls a `__name` helper that exists only in Node.
  await page.addInitScript({ content: 'window.__name = function (fn) { return fn; };' });
  const pageErrors: string[] = [];
  // Everything the page prints goes through the secret scan like any other output.
  page.on('console', (message) => tapOutput('browser', `${message.type()}: ${message.text()}\n`));
  page.on('pageerror', (error) => {
    pageErrors.push(error.stack ?? error.message);
    tapOutput('browser', `pageerror: ${error.message}\n`);
  });
  await page.goto(url);
  await page.locator('#red-ui-palette .red-ui-palette-node').first().waitFor({ timeout: 60_000 });
  // The tips box covers the bottom of the sidebar in screenshots.
  // (A user who closed them once keeps them closed: only a fresh user dir shows them.)
  const closeTips = page.locator('.red-ui-help-tips-buttons .fa-times');
  if (
    await closeTips.waitFor({ state: 'visible', timeout: 3_000 }).then(
      () => true,
      () => false,
    )
  )
    await closeTips.click();
  return { browser, page, pageErrors, close: () => browser.close() };
}

export function paletteNode(page: Page, type: string): Locator {
  return page.locator(`#red-ui-palette .red-ui-palette-node[data-palette-type="${type}"]`);
}

export async function filterPalette(page: Page, text: string): Promise<void> {
  const input = page.locator('#red-ui-palette-search input');
  await input.fill('');
  await input.pressSequentially(text);
}

/** The nodes on the visible workspace whose label is `label`. */
export function workspaceNode(page: Page, label: string): Locator {
  return page.locator('#red-ui-workspace-chart .red-ui-flow-node-group').filter({ has: page.locator('.red-ui-flow-node-label', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Drops a palette node on the workspace at (x, y) of the chart. */
export async function dragOntoWorkspace(page: Page, type: string, x: number, y: number): Promise<void> {
  // A dialog that is still sliding out would swallow the drop.
  await page.locator('.red-ui-tray').first().waitFor({ state: 'detached' });
  await paletteNode(page, type).scrollIntoViewIfNeeded();
  const from = await settledBox(paletteNode(page, type));
  const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
  if (!from || !chart) throw new Error(`cannot drag ${type}: palette node or workspace not visible`);
  // In steps, as a hand moves: the palette's drag helper follows mouse moves, and the
  // node lands where the helper is when the button is released.
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2, { steps: 4 });
  await page.mouse.down();
  await page.mouse.move(chart.x + x, chart.y + y, { steps: 12 });
  await page.mouse.up();
}

/**
 * Where an element is once it stopped moving: the palette animates while it filters or
 * folds categories, and a drag that starts from a stale position grabs nothing.
 */
async function settledBox(locator: Locator): Promise<{ x: number; y: number; width: number; height: number } | null> {
  let last = await locator.boundingBox();
  for (let i = 0; i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await locator.boundingBox();
    if (now && last?.x === now.x && now.y === last.y && now.width === last.width && now.height === last.height) return now;
    last = now;
  }
  return last;
}

/** Whether the node shows the red warning triangle of an invalid node. */
export async function showsInvalid(node: Locator): Promise<boolean> {
  return (await node.locator('.red-ui-flow-node-error:not(.hide)').count()) > 0;
}

/** Opens a workspace node's edit dialog by double-clicking it. */
export async function openEditDialog(page: Page, node: Locator): Promise<Locator> {
  await node.locator('.red-ui-flow-node').first().dblclick();
  const tray = page.locator('.red-ui-tray').last();
  await tray.locator('#node-dialog-ok').waitFor();
  // The dialog slides in; let it settle before reading or photographing it.
  await page.waitForTimeout(400);
  return tray;
}

/** The form rows of the open dialog a user can see, by the property their label is for. */
export async function visibleFields(dialog: Locator, prefix: 'node-input' | 'node-config-input'): Promise<string[]> {
  return dialog
    .locator(`.form-row label[for^="${prefix}-"]`)
    .evaluateAll((labels) => labels.filter((label) => (label as HTMLElement).offsetParent !== null).map((label) => (label.getAttribute('for') ?? '').replace(/^node-(config-)?input-/, '')));
}

/** Texts of the visible labels: a missing catalogue entry shows as an empty label or a raw key. */
export async function visibleLabelTexts(dialog: Locator): Promise<string[]> {
  return dialog
    .locator('.form-row label')
    .evaluateAll((labels) => labels.filter((label) => (label as HTMLElement).offsetParent !== null && label.getAttribute('for')).map((label) => (label.textContent ?? '').trim()));
}

/** Whether the editor marks the field as invalid (the red border). */
export async function markedInvalid(page: Page, id: string): Promise<boolean> {
  return page.locator(`#${id}`).evaluate((input) => {
    const container = input.nextElementSibling?.classList.contains('red-ui-typedInput-container') ? input.nextElementSibling : null;
    return container ? container.classList.contains('input-error') : input.classList.contains('input-error');
  });
}

/**
 * Types into a field, then leaves it. A typedInput hides the original input and shows a
 * text box of its own in the container that follows it.
 */
export async function typeInto(page: Page, id: string, text: string): Promise<void> {
  const typed = await page.locator(`#${id}`).evaluate((element) => element.classList.contains('red-ui-typedInput'));
  const input = typed ? page.locator(`#${id} + .red-ui-typedInput-container input.red-ui-typedInput-input`) : page.locator(`#${id}`);
  await input.fill(text);
  await input.press('Tab');
}

export async function clickDeploy(page: Page): Promise<string> {
  await page.locator('#red-ui-header-button-deploy').click();
  const notification = page
    .locator('.red-ui-notification')
    .filter({ hasText: /deployed|Deploy|not properly configured|error/i })
    .last();
  await notification.waitFor({ timeout: 30_000 });
  return (await notification.textContent()) ?? '';
}

/** A picture as a person would take it: no tooltip under the mouse, no fading notification. */
export async function screenshot(page: Page, dir: string, name: string, clip?: Locator): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await page.mouse.move(900, 700);
  await page
    .locator('.red-ui-notification:visible')
    .first()
    .waitFor({ state: 'hidden', timeout: 15_000 })
    .catch(() => undefined);
  await page.waitForTimeout(300);
  const file = join(dir, `${name}.png`);
  if (clip) await clip.screenshot({ path: file });
  else await page.screenshot({ path: file });
  return file;
}

/**
 * Node-RED 5's dark colour scheme on or off, as its View > Appearance setting switches it:
 * the setting toggles this one class on the document (Node-RED 4 has no such scheme).
 */
export async function setDarkScheme(page: Page, dark: boolean): Promise<void> {
  await page.evaluate((on) => document.documentElement.classList.toggle('nr-theme-dark', on), dark);
  // Let transitions of colours finish before anything is measured or photographed.
  await page.waitForTimeout(300);
}

export interface LowContrast {
  text: string;
  ratio: number;
  color: string;
  background: string;
}

/**
 * Texts under `scope` that a person can see but hardly read: the contrast ratio of their
 * colour against the background they are drawn on (WCAG 2: (L1 + 0.05) / (L2 + 0.05)),
 * below `minimum`. Looks at elements with text of their own (labels, tips, results), at
 * filled-in inputs, and at the status texts under nodes on the workspace;
 * placeholders and other drawings are not text.
 */
export async function lowContrastTexts(scope: Locator, minimum = 4.5): Promise<LowContrast[]> {
  return scope.evaluate((root, min) => {
    type Rgba = [number, number, number, number];
    const parse = (value: string): Rgba => {
      const parts = /rgba?\(([^)]+)\)/
        .exec(value)?.[1]
        .split(/[\s,/]+/)
        .filter(Boolean)
        .map(Number) ?? [0, 0, 0, 0];
      return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
    };
    const over = (top: Rgba, bottom: Rgba): Rgba => {
      const a = top[3];
      return [top[0] * a + bottom[0] * (1 - a), top[1] * a + bottom[1] * (1 - a), top[2] * a + bottom[2] * (1 - a), 1];
    };
    const luminance = ([r, g, b]: Rgba): number => {
      const channel = (c: number): number => {
        const s = c / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    /** The opaque colour behind an element: its own background and its ancestors', composed. */
    const backgroundOf = (element: Element): Rgba => {
      const layers: Rgba[] = [];
      for (let node: Element | null = element; node; node = node.parentElement) {
        const colour = parse(getComputedStyle(node).backgroundColor);
        if (colour[3] > 0) layers.push(colour);
        if (colour[3] >= 1) break;
      }
      let result: Rgba = [255, 255, 255, 1];
      for (const layer of layers.reverse()) result = over(layer, result);
      return result;
    };
    const visible = (element: Element): boolean => {
      const html = element as HTMLElement;
      const style = getComputedStyle(html);
      return html.offsetParent !== null && style.visibility !== 'hidden' && Number(style.opacity) > 0 && html.getClientRects().length > 0;
    };
    const found: Array<{ text: string; ratio: number; color: string; background: string }> = [];
    // The workspace is an SVG drawing on one background rectangle: node status labels are SVG text on it.
    const canvas = document.querySelector('.red-ui-workspace-chart-background');
    const isSvgText = (element: Element): boolean => element instanceof SVGTextElement && element.classList.contains('red-ui-flow-node-status-label');
    const candidates = [root, ...Array.from(root.querySelectorAll('*'))].filter(
      (element) => (isSvgText(element) || !(element instanceof SVGElement)) && (isSvgText(element) ? (element as SVGTextElement).getBBox().width > 0 : visible(element)),
    );
    for (const element of candidates) {
      const isInput = element instanceof HTMLInputElement && ['text', 'password', ''].includes(element.type) && element.value !== '';
      const ownText = Array.from(element.childNodes)
        .filter((child) => child.nodeType === Node.TEXT_NODE)
        .map((child) => child.textContent ?? '')
        .join('')
        .trim();
      // Links keep the editor's own link colour (Node-RED 5.0.7's dark one is 4.49:1): not a node's to choose.
      if ((!isInput && !ownText) || element.closest('a')) continue;
      const svg = isSvgText(element);
      const background = svg && canvas ? over(parse(getComputedStyle(canvas).fill), [255, 255, 255, 1]) : backgroundOf(element);
      const color = over(parse(svg ? getComputedStyle(element).fill : getComputedStyle(element).color), background);
      const [light, dark] = [luminance(color), luminance(background)].sort((a, b) => b - a);
      const ratio = (light + 0.05) / (dark + 0.05);
      if (ratio < min)
        found.push({
          text: (isInput ? element.id : ownText).slice(0, 60),
          ratio: Math.round(ratio * 100) / 100,
          color: `rgb(${color.slice(0, 3).map(Math.round).join(',')})`,
          background: `rgb(${background.slice(0, 3).map(Math.round).join(',')})`,
        });
    }
    return found;
  }, minimum);
}
