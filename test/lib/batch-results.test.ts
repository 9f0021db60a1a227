import { strict as assert } from 'node:assert';
import {
  DEDUCTED_IMAGE,
  RoboflowError,
  aggregationFormatOf,
  batchUnavailable,
  decodeCsvValue,
  errorFromResponse,
  jobTargetFor,
  normaliseBatchStatus,
  parseAggregation,
  parseCsv,
  parseJsonl,
  readJobHandle,
  rowsToFrames,
  splitCsv,
} from '../../lib';

const detections = { image: { width: 320, height: 240 }, predictions: [{ x: 40, y: 64, width: 48, height: 48, class: 'red', confidence: 0.99 }] };

describe('Batch Processing results (CSV and JSONL aggregation)', () => {
  it('splits CSV as RFC 4180 says: quoted commas, doubled quotes, line breaks inside quotes, CRLF, a BOM', () => {
    const text = '\ufeffa,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\nlines",\n';
    assert.deepEqual(splitCsv(text), [
      ['a', 'b', 'c'],
      ['1', 'x, y', 'say "hi"'],
      ['2', 'two\nlines', ''],
    ]);
    assert.deepEqual(
      splitCsv('a,b\n1,2'),
      [
        ['a', 'b'],
        ['1', '2'],
      ],
      'no newline at the end',
    );
    assert.throws(() => splitCsv('a\n"open'), /ends inside a quoted field/);
  });

  it('decodes cells as pandas wrote them: numbers, True/False, empty for None, JSON for lists and objects', () => {
    assert.equal(decodeCsvValue('3'), 3);
    assert.equal(decodeCsvValue('-0.25'), -0.25);
    assert.equal(decodeCsvValue('1e-3'), 0.001);
    assert.equal(decodeCsvValue('True'), true);
    assert.equal(decodeCsvValue('False'), false);
    assert.equal(decodeCsvValue(''), null);
    assert.deepEqual(decodeCsvValue('{"a": [1, 2]}'), { a: [1, 2] });
    assert.deepEqual(decodeCsvValue('[1,2]'), [1, 2]);
    assert.equal(decodeCsvValue('[not json'), '[not json', 'text that only looks like JSON stays text');
    assert.equal(decodeCsvValue('red'), 'red');
  });

  it('reads a CSV aggregation into one frame per row, nested detections intact', () => {
    const cell = `"${JSON.stringify(detections).replace(/"/g, '""')}"`;
    const text = `predictions,count,output_image,motion_detected,frame_offset,time_offset\n${cell},1,${DEDUCTED_IMAGE},True,0,0\n${cell},1,${DEDUCTED_IMAGE},False,3,0.2\n`;
    assert.deepEqual(parseAggregation(text, 'csv'), [
      { frameOffset: 0, timeOffset: 0, outputs: { predictions: detections, count: 1, motion_detected: true } },
      { frameOffset: 3, timeOffset: 0.2, outputs: { predictions: detections, count: 1, motion_detected: false } },
    ]);
    assert.throws(() => parseCsv('a,b\n1\n'), /record 1 has 1 fields; the header has 2/);
  });

  it('reads a JSONL aggregation; a line that is not a JSON object is an error naming the line', () => {
    const text = `${JSON.stringify({ predictions: detections, count: 1, frame_offset: 6, time_offset: 0.4 })}\n\n${JSON.stringify({ predictions: detections, count: 1, frame_offset: 9, time_offset: 0.6 })}\n`;
    assert.deepEqual(
      parseAggregation(text, 'jsonl').map((frame) => [frame.frameOffset, frame.timeOffset, frame.outputs.count]),
      [
        [6, 0.4, 1],
        [9, 0.6, 1],
      ],
    );
    assert.throws(
      () => parseJsonl('{"a": 1}\n{broken'),
      (error: RoboflowError) => error.code === 'protocol' && error.message.includes('line 2 is not JSON'),
    );
    assert.throws(() => parseJsonl('[1, 2]'), /line 1 is not a JSON object/);
  });

  it('places rows: frame_offset (0-based), else frame_id / frame_number (1-based), else the row position at the job rate', () => {
    const frames = rowsToFrames([{ frame_id: 1, count: 0 }, { frame_number: 4, count: 1 }, { count: 2 }, { count: 3 }], { fps: 5 });
    assert.deepEqual(
      frames.map((frame) => [frame.frameOffset, frame.timeOffset, frame.outputs]),
      [
        [0, 0, { count: 0 }],
        [3, 0.2, { count: 1 }],
        [2, 0.4, { count: 2 }],
        [3, 0.6, { count: 3 }],
      ],
    );
    assert.deepEqual(rowsToFrames([{ count: 1 }]), [{ frameOffset: 0, timeOffset: 0, outputs: { count: 1 } }], 'no rate: time 0');
  });

  it('knows a results file by its name or content type; archives and images are not results', () => {
    assert.equal(aggregationFormatOf('clip.jsonl'), 'jsonl');
    assert.equal(aggregationFormatOf('clip.CSV'), 'csv');
    assert.equal(aggregationFormatOf('part-0', 'application/jsonl'), 'jsonl');
    assert.equal(aggregationFormatOf('part-0', 'text/csv; charset=utf-8'), 'csv');
    assert.equal(aggregationFormatOf('job.tar', 'application/x-tar'), undefined);
    assert.equal(aggregationFormatOf('frame.jpg', 'image/jpeg'), undefined);
  });
});

describe('Batch Processing job answers', () => {
  it("reads job states: queued, running (progress by stage), complete, failed with the service's words", () => {
    assert.equal(normaliseBatchStatus({ currentStage: null, plannedStages: ['processing', 'export'], isTerminal: false }).state, 'queued');
    const running = normaliseBatchStatus({ currentStage: 'export', plannedStages: ['processing', 'export'], isTerminal: false, lastNotification: { message: 'exporting' } });
    assert.deepEqual([running.state, running.progress, running.message], ['running', 0.5, 'exporting']);
    assert.equal(normaliseBatchStatus({ isTerminal: true, error: false }).state, 'complete');
    const failed = normaliseBatchStatus({ isTerminal: true, error: true, lastNotification: { message: 'Job failed: bad video' } });
    assert.deepEqual([failed.state, failed.message], ['failed', 'Job failed: bad video']);
    assert.equal(normaliseBatchStatus({ isTerminal: true, error: true, lastNotification: 'out of memory' }).message, 'out of memory');
  });

  it('"lacks Batch Processing" means exactly: 402 with the plan gate message, or 404 / 405 / 501 from the API host', () => {
    const gate = errorFromResponse(402, { message: 'Batch processing is not enabled for this workspace. Upgrade your plan or contact sales at https://roboflow.com/sales.' }, 'batch-job');
    assert.equal(gate.code, 'forbidden');
    assert.match(gate.message, /Not available on this workspace's plan \(402\)/);
    assert.equal(batchUnavailable(gate), true);
    for (const status of [404, 405, 501]) assert.equal(batchUnavailable(errorFromResponse(status, { message: 'Not found' }, 'batch-job')), true, `${status}`);
    const credits = errorFromResponse(402, { message: 'Insufficient credits' }, 'batch-job');
    assert.equal(credits.code, 'out-of-credits');
    for (const error of [credits, errorFromResponse(401, {}, 'batch-job'), errorFromResponse(403, {}, 'batch-job'), errorFromResponse(429, {}, 'batch-job'), errorFromResponse(503, {}, 'batch-job')]) {
      assert.equal(batchUnavailable(error), false, `${error.status}: an error of its own, never a reason to switch`);
    }
    assert.equal(batchUnavailable(new RoboflowError('network', 'refused', { retryable: true })), false);
    assert.equal(batchUnavailable(new Error('x')), false);
  });
});

describe('job handles read back from disk', () => {
  const batch = {
    generation: 'batch',
    jobId: 'job-abc',
    apiUrl: 'https://api.roboflow.com',
    submittedAt: '2026-11-30T10:00:00.000Z',
    workspace: 'ws',
    workflow: 'wf',
    batchId: 'job-abc-input',
    fps: 5,
  };

  it('takes every generation this version writes, the fall-back reason included, and drops unknown fields', () => {
    assert.deepEqual(readJobHandle({ ...batch, extra: 'ignored' }), batch);
    const fellBack = {
      generation: 'workflow',
      jobId: 'j1',
      apiUrl: 'http://127.0.0.1:9001',
      submittedAt: '',
      workspace: 'ws',
      workflow: 'wf',
      fallback: { from: 'batch', reason: 'Not available (402)' },
    };
    assert.deepEqual(readJobHandle(fellBack), fellBack);
    assert.deepEqual(readJobHandle({ generation: 'model', jobId: 'j2', apiUrl: 'https://api.roboflow.com', submittedAt: 'x' }), {
      generation: 'model',
      jobId: 'j2',
      apiUrl: 'https://api.roboflow.com',
      submittedAt: 'x',
    });
  });

  it('refuses what this version never writes, naming the field', () => {
    assert.throws(() => readJobHandle({ ...batch, generation: 'auto' }, 'job 1'), /job 1.generation is not one of model, workflow, batch/);
    assert.throws(() => readJobHandle({ ...batch, jobId: '' }), /handle.jobId is empty/);
    assert.throws(() => readJobHandle({ ...batch, apiUrl: 'file:///etc/passwd' }), /apiUrl is not an http\(s\) URL/);
    assert.throws(() => readJobHandle({ ...batch, workspace: undefined }), /workspace is missing/);
    assert.throws(() => readJobHandle({ ...batch, fps: 'five' }), /fps is not a number/);
    assert.throws(() => readJobHandle({ ...batch, fallback: { from: 'elsewhere', reason: '' } }), /fallback.from is not "batch"/);
    assert.throws(() => readJobHandle([batch]), /handle is not an object/);
  });
});

describe("a node's generation choice as a job target", () => {
  it('auto, batch and videoinfer take the workflow (videoinfer is the /videoinfer workflow generation); model takes project/version', () => {
    assert.deepEqual(jobTargetFor('auto', { workspace: ' ws ', workflow: 'wf ', aggregationFormat: 'csv', model: 'ignored/1' }), {
      generation: 'auto',
      workspace: 'ws',
      workflow: 'wf',
      aggregationFormat: 'csv',
    });
    assert.equal(jobTargetFor('batch', { workspace: 'ws', workflow: 'wf' }).generation, 'batch');
    assert.equal(jobTargetFor('videoinfer', { workspace: 'ws', workflow: 'wf', versionId: 'v2' }).generation, 'workflow');
    assert.deepEqual(jobTargetFor('model', { model: 'my-project/3', confidence: 0.5 }), {
      generation: 'model',
      models: [{ modelId: 'my-project', modelVersion: '3', inferenceParams: { confidence: 0.5 } }],
    });
  });

  it('says what to set', () => {
    assert.throws(() => jobTargetFor('auto', { workspace: 'ws' }), /Set the workspace and the workflow id/);
    assert.throws(() => jobTargetFor('model', { model: 'my-project' }), /Set the model as project\/version/);
    assert.throws(() => jobTargetFor('model', { model: 'p/1', confidence: 3 }), /confidence must be a number from 0 to 1/);
    assert.throws(() => jobTargetFor('fast' as never, {}), /Unknown job generation "fast": use auto, batch, videoinfer, model/);
  });
});
