import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import { RoboflowVideoJob } from '../../nodes/n8n/RoboflowVideoJob/RoboflowVideoJob.node.js';
import { executeContext } from '../helpers/n8n-context';

/**
 * What the Video Job node sends when it submits a workflow job, read from the request
 * itself (a stub in place of Roboflow's API): the workflow version and the dry-run
 * switch the service accepts (`workflow_version_id`, `disable_sinks`).
 */
describe('n8n Video Job: workflow version and dry run (stub API)', () => {
  let stub: Server;
  let url: string;
  const bodies: Array<Record<string, unknown>> = [];

  before(async () => {
    stub = createServer((req, res) => {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (text += chunk));
      req.on('end', () => {
        bodies.push(JSON.parse(text) as Record<string, unknown>);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jobId: `job-${bodies.length}` }));
      });
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(stub.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((resolve) => stub.close(() => resolve())));

  const submit = (workflowOptions: Record<string, unknown>) =>
    new RoboflowVideoJob().execute.call(
      executeContext({
        type: 'roboflowVideoJob',
        credential: { apiKey: 'stub-key-123', serverUrl: url, apiUrl: url },
        parameters: { operation: 'submit', target: 'workflow', workspace: 'demo', workflowId: 'detect-colors', input: 'url', videoUrl: 'https://example.com/clip.mp4', fps: 5, workflowOptions },
      }),
    );

  it('sends the Workflow Version ID and Dry Run when set, and neither when not', async () => {
    const [[set]] = await submit({ workflowVersionId: ' v7 ', disableSinks: true });
    assert.equal(set.json.jobId, 'job-1');
    assert.equal(bodies[0].workflow_version_id, 'v7');
    assert.equal(bodies[0].disable_sinks, true);
    assert.equal(bodies[0].workflow, 'detect-colors');
    await submit({});
    assert.equal('workflow_version_id' in bodies[1], false);
    assert.equal('disable_sinks' in bodies[1], false);
  });

  it('offers them only for workflow jobs that are processed or submitted', () => {
    const field = new RoboflowVideoJob().description.properties.find((property) => property.name === 'workflowOptions')!;
    assert.deepEqual(field.displayOptions?.show, { operation: ['process', 'submit'], target: ['workflow'] });
    assert.deepEqual(
      (field.options as Array<{ name: string }>).map((option) => option.name),
      ['disableSinks', 'workflowVersionId'],
    );
  });
});
