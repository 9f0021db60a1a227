import { strict as assert } from 'node:assert';
import { RoboflowError, requireFfmpeg } from '../../lib';
import { statusText } from '../../nodes/node-red/common/report';
import { secret } from '../helpers/secrets';

const CAMERA_PASSWORD = secret('st4tus-cam-pw');

const short = (message: string): string => statusText(new RoboflowError('invalid-input', message));

describe('statusText: the short form of an error on a Node-RED status', () => {
  it('no ffmpeg: the status keeps the fix (the real error of the locator)', () => {
    const error = (() => {
      try {
        requireFfmpeg({ FFMPEG_PATH: '/nonexistent/ffmpeg', PATH: '' });
      } catch (caught) {
        return caught as RoboflowError;
      }
      assert.fail('ffmpeg was found at an impossible path');
    })();
    assert.equal(error.code, 'invalid-input');
    assert.match(error.message, /FFMPEG_PATH: \/nonexistent\/ffmpeg does not exist/);
    assert.equal(statusText(error), 'ffmpeg not found: install it (apt install ffmpeg)');
  });

  it('a message that fits is shown whole', () => {
    assert.equal(short('Video file not found: /tmp/x.mp4'), 'Video file not found: /tmp/x.mp4');
    assert.equal(short('The stream is not running: send topic "start" first'), 'The stream is not running: send topic "start" first');
  });

  it('a longer one keeps as much of the advice as fits, cut where a clause ends', () => {
    assert.equal(short('No worker within 30 s: a cold start or a busy service (Roboflow starts a worker per stream); retrying'), 'No worker within 30 s: a cold start or a busy service');
    assert.equal(short('No camera device: set it on the node (e.g. /dev/video0), or send it in msg.payload'), 'No camera device: set it on the node (e.g. /dev/video0)');
    assert.equal(short("Output names rejected (400): Invalid data_output fields: ['people']. Available workflow outputs: ['predictions']"), 'Output names rejected (400): Invalid data_output fields');
  });

  it('advice that does not fit: what went wrong alone, as before', () => {
    assert.equal(short('API key rejected (401): check the API key in the Roboflow credentials'), 'API key rejected (401)');
    assert.equal(short('Not found (404): check the workspace name and workflow id (Requested Roboflow resource not found.)'), 'Not found (404)');
    assert.equal(short('Camera login rejected: check the camera user and password (method DESCRIBE failed: 401 Unauthorized)'), 'Camera login rejected');
    assert.equal(short('Out of Roboflow credits (402): add credits or change plan in the Roboflow dashboard'), 'Out of Roboflow credits (402)');
    assert.equal(short('Invalid model id "abc": use project/version, e.g. my-project/3 or another'), 'Invalid model id "abc"');
    assert.equal(short('Still failing after 6 attempts (the node keeps trying): Not found (404): check the workspace'), 'Still failing after 6 attempts (the node keeps trying)');
  });

  it('a colon in a URL or inside parentheses does not end the first clause', () => {
    assert.equal(short('Camera not found at rtsp://127.0.0.1:8554/nope: check the URL, path or device (method DESCRIBE failed: 404)'), 'Camera not found at rtsp://127.0.0.1:8554/nope');
    assert.equal(short('Invalid camera URL "rtsp//x": use rtsp://, rtsps://, rtmp:// or an http(s):// HLS playlist'), 'Invalid camera URL "rtsp//x"');
  });

  it('a message with no first clause to keep is left to the status to cut', () => {
    const long = 'Zone "door" needs a "polygon" of at least 3 [x, y] points, and this one has two of them';
    assert.equal(short(long), long);
    const early = 'No video: msg.payload is an empty string (an unset environment variable, such as $ROBOFLOW_DEMO_VIDEO?)';
    assert.equal(short(early), early);
  });

  it('a camera password in the message never reaches the status', () => {
    for (const message of [`Camera not reachable: rtsp://cam:${CAMERA_PASSWORD}@10.0.0.1/x`, `Camera not reachable: rtsp://cam:${CAMERA_PASSWORD}@10.0.0.1/stream said it failed (long enough)`]) {
      const text = short(message);
      assert.ok(!text.includes(CAMERA_PASSWORD), 'password masked');
      assert.match(text, /^Camera not reachable/);
    }
  });
});
