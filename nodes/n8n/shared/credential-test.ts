import type { ICredentialTestFunctions, ICredentialsDecrypted, INodeCredentialTestResult } from 'n8n-workflow';
import { checkConnection, resolveConnection, toRoboflowError, type ConnectionCheck } from '../../../lib';
import { connectionInput } from './connection';

/** What failed, first: n8n shows only this line under the credential. */
export function describeCheck(check: ConnectionCheck): string {
  const keyFailed = check.key !== 'accepted';
  const serverFailed = check.server !== 'reachable';
  if (!keyFailed && !serverFailed) return check.message;
  const what = keyFailed && serverFailed ? 'API URL and Server URL failed' : keyFailed ? 'API URL failed' : 'Server URL failed';
  return `${what}: ${check.message}`;
}

/**
 * The Roboflow API credential's test (n8n "Test" / save): the key against the API URL
 * and the streaming server at the Server URL, each named when it fails. A function,
 * not a declarative request, because a request checks one URL only.
 */
export async function roboflowApiTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
  try {
    const connection = resolveConnection(connectionInput(credential.data ?? {}));
    const check = await checkConnection(connection);
    return { status: check.ok ? 'OK' : 'Error', message: describeCheck(check) };
  } catch (error) {
    return { status: 'Error', message: toRoboflowError(error, 'invalid-input').message };
  }
}

/**
 * The camera login's test. n8n tests a credential without the node, so the camera URL
 * is unknown here: check what can be checked, and say when the real check happens.
 */
export async function roboflowCameraLoginTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
  const username = String(credential.data?.username ?? '').trim();
  if (!username) return { status: 'Error', message: 'Set the camera user name' };
  return { status: 'OK', message: 'Saved. The camera checks this login when a stream starts (the camera URL is set on the node)' };
}

/** For each node's `methods`: n8n finds credential tests by the names given in `testedBy`. */
export const credentialTest = { roboflowApiTest, roboflowCameraLoginTest };
