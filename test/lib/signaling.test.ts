import { strict as assert } from 'node:assert';
import { buildInitRequest, normaliseIceServers, resolveConnection } from '../../lib';

describe('signaling', () => {
  const offer = { sdp: 'v=0...', type: 'offer' as const };
  const base = { imageInput: 'image', dataOutputs: ['predictions'], streamOutputs: [], parameters: { min_area: 10 }, realtime: true, iceServers: [], processingTimeout: 3600 as number | null };

  it('builds the initialise_webrtc_worker body of docs/protocol.md §2.1 for a saved workflow', () => {
    const connection = resolveConnection({ apiKey: 'k-123456', plan: 'webrtc-gpu-medium', region: 'eu' });
    const body = buildInitRequest(connection, { ...base, workflow: { workspace: 'ws', workflowId: 'wf' }, declaredFps: 15, rtspUrl: 'rtsp://cam/1', processingTimeout: 600 }, offer);
    assert.deepEqual(body, {
      api_key: 'k-123456',
      workflow_configuration: {
        type: 'WorkflowConfiguration',
        workspace_name: 'ws',
        workflow_id: 'wf',
        image_input_name: 'image',
        video_metadata_input_name: 'video_metadata',
        workflows_parameters: { min_area: 10 },
        workflows_thread_pool_workers: 4,
        cancel_thread_pool_tasks_on_exit: true,
      },
      webrtc_offer: offer,
      webrtc_config: null,
      webrtc_realtime_processing: true,
      stream_output: [],
      data_output: ['predictions'],
      declared_fps: 15,
      rtsp_url: 'rtsp://cam/1',
      processing_timeout: 600,
      requested_plan: 'webrtc-gpu-medium',
      requested_region: 'eu',
    });
  });

  it('sends an inline specification instead of workspace + id, and TURN servers when given', () => {
    const connection = resolveConnection({ apiKey: 'k-123456' });
    const turn = [{ urls: ['turn:t.example:3478'], username: 'u', credential: 'c' }];
    const body = buildInitRequest(connection, { ...base, workflow: { specification: { version: '1.0' } }, iceServers: turn }, offer);
    assert.deepEqual(body.workflow_configuration.workflow_specification, { version: '1.0' });
    assert.equal(body.workflow_configuration.workspace_name, undefined);
    assert.equal(body.workflow_configuration.workflow_id, undefined);
    assert.deepEqual(body.webrtc_config, { iceServers: turn });
    assert.equal(body.requested_plan, undefined);
    assert.equal(body.requested_region, undefined);
    assert.equal(body.processing_timeout, 3600, 'the timeout is always sent, so the renewal is planned, not a surprise');
  });

  it('pins a workflow version, skips sinks on request, and asks for the service maximum with a null timeout', () => {
    const connection = resolveConnection({ apiKey: 'k-123456' });
    const body = buildInitRequest(connection, { ...base, workflow: { workspace: 'ws', workflowId: 'wf', versionId: 'v7' }, disableSinks: true, processingTimeout: null }, offer);
    assert.equal(body.workflow_configuration.workflow_version_id, 'v7');
    assert.equal(body.workflow_configuration.disable_sinks, true);
    assert.ok('processing_timeout' in body && body.processing_timeout === null, 'null is sent, not omitted');
    const plain = buildInitRequest(connection, { ...base, workflow: { workspace: 'ws', workflowId: 'wf' } }, offer);
    assert.equal('workflow_version_id' in plain.workflow_configuration, false);
    assert.equal('disable_sinks' in plain.workflow_configuration, false);
  });

  it('accepts the three TURN config shapes', () => {
    const server = { urls: 'turn:a:3478', username: 'u', credential: 'c' };
    const expected = [{ urls: ['turn:a:3478'], username: 'u', credential: 'c' }];
    assert.deepEqual(normaliseIceServers([server]), expected);
    assert.deepEqual(normaliseIceServers({ iceServers: [server] }), expected);
    assert.deepEqual(normaliseIceServers(server), expected);
    assert.equal(normaliseIceServers({ nope: 1 }), undefined);
    assert.equal(normaliseIceServers([{ urls: [] }]), undefined);
  });

  it('validates connections: key required, a region name and a known plan, http(s) URLs, defaults filled', () => {
    assert.deepEqual(resolveConnection({ apiKey: ' k-123456 ' }), { apiKey: 'k-123456', serverUrl: 'https://serverless.roboflow.com', apiUrl: 'https://api.roboflow.com' });
    assert.equal(resolveConnection({ apiKey: 'k-123456', serverUrl: 'http://127.0.0.1:9001/' }).serverUrl, 'http://127.0.0.1:9001');
    assert.throws(() => resolveConnection({ apiKey: '' }), /API key missing/);
    assert.throws(() => resolveConnection({ apiKey: 'k-123456', region: 'mars base' }), /Invalid region "mars base"/);
    assert.throws(() => resolveConnection({ apiKey: 'k-123456', plan: 'huge' }), /Unknown plan "huge"/);
    assert.throws(() => resolveConnection({ apiKey: 'k-123456', serverUrl: 'ftp://x' }), /must start with http/);
    assert.throws(() => resolveConnection({ apiKey: 'k-123456', apiUrl: 'not a url' }), /not a valid URL/);
  });
});
