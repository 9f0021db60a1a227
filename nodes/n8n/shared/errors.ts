import { NodeOperationError, type INode } from 'n8n-workflow';
import { redact, toRoboflowError } from '../../../lib';

/**
 * The one error path of the n8n adapters: any failure becomes a NodeOperationError
 * with a redacted message that says what to do, tied to the item when there is one.
 * The server's own words go into the description only when the message does not
 * already quote them (n8n shows both, one under the other).
 */
export function nodeError(node: INode, caught: unknown, itemIndex?: number): NodeOperationError {
  if (caught instanceof NodeOperationError) return caught;
  const error = toRoboflowError(caught, 'invalid-input');
  const message = redact(error.message);
  const detail = error.detail ? redact(error.detail) : undefined;
  const failure = new NodeOperationError(node, message, {
    ...(itemIndex !== undefined ? { itemIndex } : {}),
    description: detail && !message.includes(detail) ? detail : undefined,
  });
  // n8n swaps any message naming ECONNREFUSED, ENOTFOUND, ... for a generic sentence
  // ("The service refused the connection - perhaps it is offline"); ours already says
  // which host and what to check, so it stays.
  failure.message = message;
  return failure;
}
