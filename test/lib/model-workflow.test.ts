import { strict as assert } from 'node:assert';
import { buildModelWorkflow, checkModelRef, pipelineFingerprint, readPipelineHandle, resolveConnection, videoReference, type PipelineIdentity } from '../../lib';
import { secret } from '../helpers/secrets';

describe('streaming a trained model (one-step workflow)', () => {
  it("builds the specification Roboflow's Python SDK builds: the task's model block, outputs predictions and image", () => {
    assert.deepEqual(buildModelWorkflow({ model: 'my-project/3' }, 'object-detection'), {
      version: '1.0',
      inputs: [{ type: 'InferenceImage', name: 'image' }],
      steps: [{ type: 'roboflow_core/roboflow_object_detection_model@v2', name: 'model', images: '$inputs.image', model_id: 'my-project/3' }],
      outputs: [
        { type: 'JsonField', name: 'predictions', coordinates_system: 'own', selector: '$steps.model.predictions' },
        { type: 'JsonField', name: 'image', selector: '$inputs.image' },
      ],
    });
    const classification = buildModelWorkflow({ model: 'leaves/1' }, 'classification').steps as Array<Record<string, unknown>>;
    assert.equal(classification[0].type, 'roboflow_core/roboflow_classification_model@v2');
  });

  it('puts confidence and classes on the block as confidence and class_filter, where the block has them', () => {
    const steps = buildModelWorkflow({ model: 'p/1', confidence: 0.6, classes: [' person ', 'car'] }, 'instance-segmentation').steps as Array<Record<string, unknown>>;
    assert.equal(steps[0].confidence, 0.6);
    assert.deepEqual(steps[0].class_filter, ['person', 'car']);
    assert.throws(() => buildModelWorkflow({ model: 'p/1', classes: ['cat'] }, 'classification'), /a class filter applies to detection models only/);
    assert.throws(() => buildModelWorkflow({ model: 'p/1', confidence: 0.5 }, 'semantic-segmentation'), /takes no confidence threshold/);
  });

  it('refuses model ids and options a user mistyped, saying what to fix', () => {
    assert.throws(() => checkModelRef({ model: ' ' }), /Invalid model id " ": use project\/version/);
    assert.throws(() => checkModelRef({ model: 'my project/1' }), /Invalid model id/);
    assert.throws(() => checkModelRef({ model: 'p/1', confidence: 1.5 }), /confidence must be a number from 0 to 1/);
    assert.throws(() => checkModelRef({ model: 'p/1', classes: [''] }), /classes must be a list of class names/);
    assert.throws(() => checkModelRef({ model: 'p/1', taskType: 'captioning' as never }), /Unknown model task type "captioning"/);
    checkModelRef({ model: 'rfdetr-nano' });
  });
});

describe('pipeline handles and fingerprints', () => {
  const key = secret('fingerprint-key-0123');
  const connection = resolveConnection({ apiKey: key, serverUrl: 'http://10.0.0.5:9001' });
  const identity: PipelineIdentity = { workflow: { workspace: 'ws', workflowId: 'wf' }, source: { kind: 'url', url: 'rtsp://cam:pa55@10.0.0.9/live' }, parameters: { b: 1, a: 2 } };

  it('gives equal settings the same fingerprint (whatever the key order), and any change another', () => {
    const base = pipelineFingerprint(connection, identity);
    assert.match(base, /^[0-9a-f]{32}$/);
    assert.equal(pipelineFingerprint(connection, { ...identity, parameters: { a: 2, b: 1 } }), base);
    assert.notEqual(pipelineFingerprint(connection, { ...identity, source: { kind: 'url', url: 'rtsp://cam:other@10.0.0.9/live' } }), base, 'a new camera password');
    assert.notEqual(pipelineFingerprint(connection, { ...identity, maxFps: 5 }), base);
    assert.notEqual(pipelineFingerprint(resolveConnection({ apiKey: key, serverUrl: 'http://10.0.0.6:9001' }), identity), base, 'another server');
    assert.notEqual(pipelineFingerprint(resolveConnection({ apiKey: secret('another-key-45678'), serverUrl: 'http://10.0.0.5:9001' }), identity), base, 'another key');
  });

  it('reads a persisted handle back, refusing what this version never writes', () => {
    const handle = { pipelineId: 'p-1', serverUrl: 'http://10.0.0.5:9001', fingerprint: 'ab12cd34ef56ab12', startedAt: '2026-11-30T10:00:00.000Z' };
    assert.deepEqual(readPipelineHandle({ ...handle, extra: 1 }), handle);
    assert.throws(() => readPipelineHandle({ ...handle, serverUrl: 'ftp://x' }), /serverUrl is not an http\(s\) URL/);
    assert.throws(() => readPipelineHandle({ ...handle, fingerprint: 'not hex!' }), /fingerprint is not a hex digest/);
    assert.throws(() => readPipelineHandle({ ...handle, pipelineId: 3 }), /pipelineId is not text/);
  });

  it('turns a source into the video_reference the server opens', () => {
    assert.equal(videoReference({ kind: 'device', index: 0 }), 0);
    assert.equal(videoReference({ kind: 'file', path: ' /videos/a.mp4 ' }), '/videos/a.mp4');
    assert.equal(videoReference({ kind: 'url', url: 'http://cam/video.mjpeg' }), 'http://cam/video.mjpeg');
    assert.throws(() => videoReference({ kind: 'device', index: -1 }), /Invalid device index -1/);
    assert.throws(() => videoReference({ kind: 'url', url: 'cam.local/live' }), /must start with rtsp:\/\//);
    assert.throws(() => videoReference({ kind: 'file', path: '' }), /path of the video file on the server/);
  });
});
