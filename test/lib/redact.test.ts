import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { forgetSecret, redact, redactValue, registerSecret, secretHolders } from '../../lib';

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

/** How often `needle` occurs in `text` (overlapping). */
function occurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) count++;
  return count;
}

describe('redact: camera passwords of any characters (fuzzed)', () => {
  // Raw in a URL, a password may hold anything but the three characters that end an
  // authority in every URL parser (/ ? #); with them it must be percent-encoded.
  // The characters that broke the old character class are drawn as often as any other.
  const tricky = fc.constantFrom("'", '"', ' ', '@', ':', '%', '\\', '&', '=', '\n', '\t', 'ü', '✓', '😀', '*');
  const rawPassword = fc
    .array(fc.oneof(tricky, fc.string({ unit: 'binary', minLength: 1, maxLength: 3 })), { minLength: 1, maxLength: 12 })
    .map((parts) => parts.join(''))
    .filter((p) => !/[/?#]/.test(p));
  const user = fc.stringMatching(/^[A-Za-z0-9._-]{0,10}$/);
  const host = fc.constantFrom('cam', '10.0.0.5', 'cam.local:554', '[fe80::1]:8554', 'h');
  const path = fc.constantFrom('/stream1', '/s?channel=1', '/', '');
  const scheme = fc.constantFrom('rtsp', 'rtsps', 'http', 'https');

  /** The ways a camera URL reaches a log, a status or an error. */
  const shapes: Array<[string, (url: string) => string]> = [
    ['a bare URL', (url) => url],
    ['an error sentence', (url) => `Cannot open ${url}: Connection refused (retry 3 of 5)`],
    ['JSON', (url) => JSON.stringify({ error: 'camera failed', url, detail: `opening ${url} failed` })],
    ['ffmpeg quoting', (url) => `[rtsp @ 0x55d0c8] method DESCRIBE failed: 401 Unauthorized\nError opening input '${url}': Server returned 401`],
  ];

  for (const [name, shape] of shapes) {
    it(`in ${name}: the password appears nowhere; with a path, exactly the password is masked`, () => {
      fc.assert(
        fc.property(scheme, user, rawPassword, host, path, fc.boolean(), (s, u, password, h, p, encode) => {
          const secret = encode ? encodeURIComponent(password) : password;
          const url = `${s}://${u}:${secret}@${h}${p}`;
          const masked = `${s}://${u}:***@${h}${p}`;
          const out = redact(shape(url));
          // The password (raw, percent-encoded, JSON-escaped) is never shown more often than
          // the masked message itself happens to contain its characters.
          for (const form of new Set([password, secret, JSON.stringify(secret).slice(1, -1)])) {
            assert.ok(occurrences(out, form) <= occurrences(shape(masked), form), `"${form}" shown in: ${out}`);
          }
          if (p.startsWith('/')) assert.equal(out, shape(masked));
        }),
        { numRuns: 400 },
      );
    });
  }

  it('a password typed with a raw / ? or # (a URL no parser reads as such; no space or quote in it) appears nowhere', () => {
    const malformed = fc
      .tuple(rawPassword, fc.constantFrom('/', '?', '#'), rawPassword)
      .map(([before, mark, after]) => `${before}${mark}${after}`)
      .filter((password) => !/[\s'"]/.test(password) && !/^\d+[/?#]/.test(password));
    for (const [name, shape] of shapes) {
      fc.assert(
        fc.property(scheme, user, malformed, host, path, (s, u, password, h, p) => {
          const url = `${s}://${u}:${password}@${h}${p}`;
          const out = redact(shape(url));
          assert.ok(!out.includes(password), `${name}: "${password}" shown in: ${out}`);
          assert.ok(out.includes(`${s}://${u}:***`), `${name}: the user is kept: ${out}`);
        }),
        { numRuns: 200 },
      );
    }
    assert.equal(redact('Cannot open rtsp://admin:pa/ss@cam:554/live'), 'Cannot open rtsp://admin:***@cam:554/live');
  });

  it('the cases that leaked before: quote, double quote, space, raw @', () => {
    for (const password of ["it's", 'say "hi"', 'two words', 'p@ss@word', 'a:b:c', '100%', 'pässwörd✓']) {
      assert.equal(redact(`Error opening input 'rtsp://admin:${password}@cam:554/live'`), "Error opening input 'rtsp://admin:***@cam:554/live'", password);
    }
  });

  it('keeps URLs without a password and ordinary text as they are', () => {
    for (const text of [
      'GET http://127.0.0.1:9001/local/sessions',
      'rtsp://cam.local:554/stream',
      'rtsp://viewer@cam/stream',
      'time 10:30, mail me@example.com',
      'GET http://127.0.0.1:9001/local/sessions from ops@example.com',
      'rtsp://cam/stream1: ask admin@example.com',
    ]) {
      assert.equal(redact(text), text);
    }
  });

  it('redactValue masks inside each string and secret-named fields, never across a value', () => {
    const value = { url: 'rtsp://u:p"x@h', note: 'see a@b', list: ['http://a:b@c/d'], password: 'plain', nested: { apiKey: 'k' } };
    assert.deepEqual(redactValue(value), { url: 'rtsp://u:***@h', note: 'see a@b', list: ['http://a:***@c/d'], password: '***', nested: { apiKey: '***' } });
  });
});

describe('redact: secrets held by several holders', () => {
  it('a key two config nodes hold stays masked until both forget it', () => {
    const key = 'SharedKey-0123456789';
    registerSecret(key, 'config-a');
    registerSecret(key, 'config-b');
    assert.equal(secretHolders(key), 2);
    forgetSecret(key, 'config-a');
    assert.equal(redact(`bad key ${key}`), 'bad key ***', 'config-b still holds it');
    forgetSecret(key, 'config-a');
    assert.equal(redact(key), '***', 'a second forget by the same holder changes nothing');
    forgetSecret(key, 'config-b');
    assert.equal(redact(key), key);
  });

  it('a holder registering again (a redeployed config node) still needs one forget', () => {
    const key = 'RedeployedKey-0123456789';
    registerSecret(key, 'n1');
    registerSecret(key, 'n1');
    assert.equal(secretHolders(key), 1);
    forgetSecret(key, 'n1');
    assert.equal(redact(key), key);
  });
});
