import { RoboflowError, registerSecret } from '../../../lib';

/** The `roboflowCameraLoginApi` credential: a camera's user name and password. */
export interface CameraLogin {
  username: string;
  password?: string;
}

/**
 * Percent-encodes a user name or password for a URL's userinfo (RFC 3986): everything
 * but letters, digits and `-._~`, so `'`, `"`, space, `@`, `:`, `/` and `%` arrive at
 * the camera as typed, and the redaction helper's URL pattern recognises the result.
 */
export function encodeUserinfo(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The camera URL with the login put in at connect time (the workflow JSON keeps the
 * URL without it). The password is registered with the redaction helper, raw and
 * encoded, so no log line or error shows it.
 */
export function withCameraLogin(url: string, login: CameraLogin | undefined): string {
  if (!login) return url;
  const username = login.username ?? '';
  const password = login.password ?? '';
  if (!username) throw new RoboflowError('invalid-input', 'The camera login credential has no user name');
  registerSecret(password);
  registerSecret(encodeUserinfo(password));
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url);
  if (!match) throw new RoboflowError('invalid-input', 'The camera URL must look like rtsp://host/path or http://host/path');
  const [, scheme, authority, rest] = match;
  if (authority.includes('@')) {
    throw new RoboflowError('invalid-input', 'The camera URL already holds a user name: with a Camera Login credential, leave user and password out of the URL');
  }
  const userinfo = password ? `${encodeUserinfo(username)}:${encodeUserinfo(password)}` : encodeUserinfo(username);
  return `${scheme}${userinfo}@${authority}${rest}`;
}
