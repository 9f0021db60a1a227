import { RoboflowError } from './errors';
import { redactUrl } from './redact';

/** A camera's login, kept in a credential store and put into the URL only at connect time. */
export interface CameraLogin {
  username?: string;
  password?: string;
}

function parse(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new RoboflowError('invalid-input', `Invalid camera URL "${redactUrl(url)}"`);
  }
}

/**
 * The camera URL with its login filled in, each part percent-encoded, so a password may
 * hold any character (`'`, `"`, space, `@`, `:`, `/`, `%`). A login already in the URL
 * is replaced only by the parts given.
 */
export function withCameraLogin(url: string, login: CameraLogin): string {
  const username = login.username ?? '';
  const password = login.password ?? '';
  if (!username && !password) return url;
  const target = parse(url);
  // The setters encode only what may not appear in userinfo, never `%`: encode all of it ourselves.
  if (username) target.username = encodeURIComponent(username);
  if (password) target.password = encodeURIComponent(password);
  return target.toString();
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
