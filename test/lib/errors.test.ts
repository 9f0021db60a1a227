import { strict as assert } from 'node:assert';
import { RoboflowError, errorFromResponse, errorFromTransport, registerSecret } from '../../lib';

describe('errors', () => {
  const cases: Array<[number, unknown, string, RegExp, boolean]> = [
    [401, { message: 'Unauthorized access' }, 'invalid-api-key', /API key rejected \(401\).*check the API key/, false],
    [403, { message: 'Forbidden' }, 'forbidden', /not allowed \(403\)/, false],
    [402, { message: 'credits' }, 'out-of-credits', /Out of Roboflow credits \(402\)/, false],
    [404, { message: 'Requested Roboflow resource not found.' }, 'not-found', /Not found \(404\): check the workspace name and workflow id/, false],
    [423, {}, 'key-paused', /paused \(423\)/, false],
    [429, { message: 'You have reached the maximum of 10 concurrent streams.', error_type: 'WorkspaceStreamQuotaError' }, 'stream-limit', /Workspace stream limit reached \(10\)/, true],
    [429, { message: 'slow down' }, 'rate-limited', /Rate limited \(429\)/, true],
    [
      400,
      { message: "Invalid data_output fields: ['x']. Available workflow outputs: ['predictions']", error_type: 'WebRTCConfigurationError' },
      'invalid-outputs',
      /Invalid data_output fields/,
      false,
    ],
    [400, { message: 'Unknown block type', error_type: 'WorkflowSyntaxError' }, 'invalid-workflow', /Workflow rejected \(400\).*Unknown block type/, false],
    [400, { message: 'Required Roboflow API key is missing.' }, 'missing-api-key', /API key missing/, false],
    [422, { detail: [{ loc: ['body', 'webrtc_offer'], msg: 'Field required' }] }, 'bad-request', /422.*body\.webrtc_offer: Field required/, false],
    [500, { message: 'boom' }, 'server-error', /Server error \(500\) \(boom\)/, true],
    [502, { message: 'Internal error. Request to Roboflow API failed.' }, 'bad-gateway', /502/, true],
    [503, 'busy', 'unavailable', /503/, true],
    [504, {}, 'gateway-timeout', /did not answer in time \(504\).*camera URL/, true],
  ];
  for (const [status, body, code, message, retryable] of cases) {
    it(`maps ${status} ${code}`, () => {
      const error = errorFromResponse(status, body, 'stream');
      assert.ok(error instanceof RoboflowError);
      assert.equal(error.code, code);
      assert.match(error.message, message);
      assert.equal(error.retryable, retryable);
      assert.equal(error.status, status);
    });
  }

  it('names the scope Vision Events need on 403', () => {
    assert.match(errorFromResponse(403, { error: 'forbidden' }, 'vision-events').message, /vision-events:write/);
  });

  it('never lets the key into a message, even when the server echoes it', () => {
    registerSecret('EchoedKey123456');
    const error = errorFromResponse(400, { message: 'bad key EchoedKey123456' }, 'stream');
    assert.doesNotMatch(error.message, /EchoedKey123456/);
    assert.doesNotMatch(error.detail ?? '', /EchoedKey123456/);
  });

  it('maps transport failures to network/timeout errors naming the host', () => {
    const refused = errorFromTransport(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'http://127.0.0.1:9/x?api_key=abc');
    assert.equal(refused.code, 'network');
    assert.equal(refused.retryable, true);
    assert.match(refused.message, /Cannot reach 127\.0\.0\.1:9 \(ECONNREFUSED\)/);
    const timeout = errorFromTransport(Object.assign(new Error('t'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), 'http://h/');
    assert.equal(timeout.code, 'timeout');
    const aborted = errorFromTransport(Object.assign(new Error('a'), { name: 'AbortError' }), 'http://h/');
    assert.equal(aborted.code, 'aborted');
    assert.equal(aborted.retryable, false);
  });
});
