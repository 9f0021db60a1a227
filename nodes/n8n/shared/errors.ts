import { NodeOperationError, type INode } from 'n8n-workflow';
import { redact, toRoboflowError } from '../../../lib';

/**
 * The one error path of the n8n adapters: any failure becomes a NodeOperationError
 * with a redacted message that says what to do, tied to the item when there is one.
 */
export function nodeError(node: INode, caught: unknown, itemIndex?: number): NodeOperationError {
  if (caught instanceof NodeOperationError) return caught;
  const error = toRoboflowError(caught, 'invalid-input');
  const message = redact(error.message);
  return new NodeOperationError(node, message, {
    ...(itemIndex !== undefined ? { itemIndex } : {}),
    description: error.detail ? redact(error.detail) : undefined,
  });
}
