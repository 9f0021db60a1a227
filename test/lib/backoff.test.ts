import { strict as assert } from 'node:assert';
import { DEFAULT_RECONNECT, RoboflowError, backoffDelay, isFatal, parseRetryAfter, reconnectDelay, sleep } from '../../lib';

describe('backoff', () => {
  const options = { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0.5 };

  it('grows exponentially and is capped', () => {
    const top = (attempt: number): number => backoffDelay(attempt, options, () => 1);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(top), [100, 200, 400, 800, 1000, 1000]);
  });

  it('draws the jittered share at random within [delay*(1-jitter), delay]', () => {
    assert.equal(
      backoffDelay(3, options, () => 0),
      200,
    );
    assert.equal(
      backoffDelay(3, options, () => 0.5),
      300,
    );
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(4, options);
      assert.ok(delay >= 400 && delay <= 800, String(delay));
    }
  });

  it('parses Retry-After in seconds and as an HTTP date', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter('0.5'), 500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });

  it('sleep can be aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(sleep(5_000, controller.signal), { name: 'AbortError' });
    assert.ok(Date.now() - started < 1_000);
  });

  it('reconnects slowly after a stream-limit answer and honours Retry-After', () => {
    const limit = new RoboflowError('stream-limit', 'limit', { retryable: true });
    assert.ok(reconnectDelay(1, limit) >= DEFAULT_RECONNECT.streamLimitDelayMs);
    const later = new RoboflowError('unavailable', 'busy', { retryable: true, retryAfterMs: 7_000 });
    assert.ok(reconnectDelay(1, later) >= 7_000);
    const network = new RoboflowError('network', 'gone', { retryable: true });
    assert.ok(reconnectDelay(1, network, DEFAULT_RECONNECT, () => 1) <= DEFAULT_RECONNECT.initialMs);
  });

  it('treats errors the user must fix as fatal', () => {
    for (const code of ['invalid-api-key', 'forbidden', 'not-found', 'invalid-outputs', 'invalid-workflow', 'out-of-credits'] as const) {
      assert.equal(isFatal(new RoboflowError(code, code)), true, code);
    }
    for (const code of ['network', 'stream-limit', 'unavailable', 'webrtc', 'gateway-timeout'] as const) {
      assert.equal(isFatal(new RoboflowError(code, code)), false, code);
    }
  });
});
