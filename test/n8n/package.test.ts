import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/local-server';

interface Icon {
  light: string;
  dark: string;
}

interface Manifest {
  name: string;
  keywords: string[];
  n8n: { n8nNodesApiVersion: number; credentials: string[]; nodes: string[] };
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional: boolean }>;
  files: string[];
}

describe('the package as n8n sees it', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;

  it('is an installable community package: name, keyword, built nodes and credential', () => {
    assert.match(manifest.name, /^(@[\w-]+\/)?n8n-nodes-/);
    assert.ok(manifest.keywords.includes('n8n-community-node-package'));
    for (const file of [...manifest.n8n.credentials, ...manifest.n8n.nodes]) assert.ok(existsSync(join(ROOT, file)), `${file} is built`);
  });

  it('n8n-workflow is an optional peer dependency (Node-RED users never install it)', () => {
    assert.ok(manifest.peerDependencies['n8n-workflow']);
    assert.equal(manifest.peerDependenciesMeta['n8n-workflow'].optional, true);
  });

  it('each node has its codex beside it; nodes and credential name icons that resolve to the logo in the build', async () => {
    const logo = { light: readFileSync(join(ROOT, 'icons', 'roboflow.svg'), 'utf8'), dark: readFileSync(join(ROOT, 'icons', 'roboflow.dark.svg'), 'utf8') };
    const iconsOf = async (file: string): Promise<{ light: string; dark: string }> => {
      const module = (await import(join(ROOT, file))) as Record<string, new () => { icon?: Icon; description?: { icon: Icon } }>;
      const instance = new (Object.values(module)[0])();
      return (instance.description?.icon ?? instance.icon)!;
    };
    const check = async (file: string): Promise<void> => {
      const icons = await iconsOf(file);
      for (const theme of ['light', 'dark'] as const) {
        assert.match(icons[theme], /^file:/);
        const path = join(ROOT, file, '..', icons[theme].slice('file:'.length));
        assert.ok(path.startsWith(join(ROOT, 'dist')), `${file}: the ${theme} icon is inside the package's dist`);
        assert.equal(readFileSync(path, 'utf8'), logo[theme], `${file}: the ${theme} icon is the logo`);
      }
    };
    for (const file of manifest.n8n.nodes) {
      const nodeName = file.split('/').pop()!.replace('.node.js', '');
      const codex = JSON.parse(readFileSync(join(ROOT, file, '..', `${nodeName}.node.json`), 'utf8')) as { node: string };
      assert.equal(codex.node, `${manifest.name}.${nodeName.charAt(0).toLowerCase()}${nodeName.slice(1)}`);
    }
    await Promise.all([...manifest.n8n.nodes, ...manifest.n8n.credentials].map(check));
  });

  it('ships the n8n example workflows outside examples/ (Node-RED lists every JSON there)', () => {
    assert.ok(manifest.files.includes('workflows'));
    const workflows = readdirSync(join(ROOT, 'workflows', 'n8n')).filter((file) => file.endsWith('.json'));
    assert.ok(workflows.length >= 2);
    for (const file of workflows) {
      const workflow = JSON.parse(readFileSync(join(ROOT, 'workflows', 'n8n', file), 'utf8')) as { nodes: Array<{ type: string }>; connections: object };
      assert.ok(
        workflow.nodes.some((node) => node.type.startsWith(`${manifest.name}.`)),
        `${file} uses a Roboflow node`,
      );
    }
    for (const file of readdirSync(join(ROOT, 'examples'))) {
      const flow = JSON.parse(readFileSync(join(ROOT, 'examples', file), 'utf8')) as unknown;
      assert.ok(Array.isArray(flow), `examples/${file} is a Node-RED flow`);
    }
  });
});
