import { RoboflowError } from './errors';
import { redact, registerSecret } from './redact';

/** A camera's login, kept in a credential store and put into the URL only at connect time. */
export interface CameraLogin {
  username?: string;
  password?: string;
}

/**
 * Percent-encodes a user name or password for a URL's userinfo (RFC 3986): everything
 * but letters, digits and `-._~`, so `'`, `"`, space, `@`, `:`, `/` and `%` arrive at the
 * camera as typed, and the redaction helper's URL pattern recognises the result.
 */
export function encodeUserinfo(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The camera URL with its login put in, at connect time only (the flow or workflow keeps
 * the URL without it). The password is registered with the redaction helper, raw and
 * encoded, so no log line or error can show it. A URL that already holds a login is
 * refused: two logins for one camera is a mistake to point out, not to guess about.
 */
export function withCameraLogin(url: string, login: CameraLogin | undefined): string {
  const username = login?.username ?? '';
  const password = login?.password ?? '';
  if (!username && !password) return url;
  if (!username) throw new RoboflowError('invalid-input', 'The camera login has a password but no user name');
  registerSecret(password);
  registerSecret(encodeUserinfo(password));
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url);
  if (!match) throw new RoboflowError('invalid-input', `The camera URL must look like rtsp://host/path or http://host/path (got "${redact(url)}")`);
  const [, scheme, authority, rest] = match;
  if (authority.includes('@')) {
    throw new RoboflowError('invalid-input', 'The camera URL already holds a user name: with a camera login set, leave user and password out of the URL');
  }
  const userinfo = password ? `${encodeUserinfo(username)}:${encodeUserinfo(password)}` : encodeUserinfo(username);
  return `${scheme}${userinfo}@${authority}${rest}`;
}

/**
 * Splits a login out of a camera URL (for flows saved with the password in the URL):
 * the bare URL and the decoded login. A URL without userinfo comes back unchanged.
 */
export function splitCameraLogin(url: string): { url: string; login: CameraLogin } {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { url, login: {} };
  }
  if (!target.username && !target.password) return { url, login: {} };
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const login: CameraLogin = {
    ...(target.username ? { username: decode(target.username) } : {}),
    ...(target.password ? { password: decode(target.password) } : {}),
  };
  target.username = '';
  target.password = '';
  return { url: target.toString(), login };
}
