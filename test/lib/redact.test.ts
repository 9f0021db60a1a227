import { strict as assert } from 'node:assert';
import { forgetSecret, redact, redactValue, registerSecret } from '../../lib';

describe('redact', () => {
  it('hides passwords inside URLs of any scheme, keeping the user and host', () => {
    assert.equal(redact('cannot open rtsp://admin:hunter2@10.0.0.5:554/stream1'), 'cannot open rtsp://admin:***@10.0.0.5:554/stream1');
    assert.equal(redact('GET https://bob:p%40ss@example.com/x'), 'GET https://bob:***@example.com/x');
  });

  it('hides api_key and similar query parameters', () => {
    assert.equal(redact('POST https://api.roboflow.com/videoinfer/?api_key=abcDEF123456&job_id=1'), 'POST https://api.roboflow.com/videoinfer/?api_key=***&job_id=1');
    assert.equal(redact('url?token=xyz&x=1'), 'url?token=***&x=1');
  });

  it('hides keys in JSON bodies and Authorization headers', () => {
    assert.equal(redact('{"api_key": "abcdef1234", "x": 1}'), '{"api_key": "***", "x": 1}');
    assert.equal(redact("{apiKey: 'abcdef1234'}"), "{apiKey: '***'}");
    assert.equal(redact('Authorization: Bearer abc.def-123'), 'Authorization: Bearer ***');
  });

  it('hides a registered secret wherever it appears, and stops once forgotten', () => {
    registerSecret('Sup3rSecretKeyValue');
    assert.equal(redact('server said: bad key Sup3rSecretKeyValue!'), 'server said: bad key ***!');
    forgetSecret('Sup3rSecretKeyValue');
    assert.equal(redact('Sup3rSecretKeyValue'), 'Sup3rSecretKeyValue');
  });

  it('does not register short strings that would mask ordinary words', () => {
    registerSecret('abc');
    assert.equal(redact('abc abc'), 'abc abc');
  });

  it('redacts every string inside a value', () => {
    assert.deepEqual(redactValue({ url: 'rtsp://u:p@h/x', nested: { api_key: 'k123456789' } }), { url: 'rtsp://u:***@h/x', nested: { api_key: '***' } });
  });
});
