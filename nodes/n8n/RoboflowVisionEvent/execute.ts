import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { RoboflowError, VisionEventsClient, buildEvent, deliverEvents, splitPayload, toImageBuffer, toObjectDetections, type EventType, type RoboflowConnection, type VisionEvent } from '../../../lib';
import { connectionOf } from '../shared/connection';
import { nodeError } from '../shared/errors';
import { jsonObject } from '../shared/parse';
import { cachedUseCaseId, useCaseIds } from './use-case-cache';

/** A value at a dotted path ("payload.predictions") of an item. */
function pathValue(json: IDataObject, path: string): unknown {
  let value: unknown = json;
  for (const part of path.split('.')) {
    if (!value || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Item fields as metadata: scalars only (nested values would be long JSON text; define them explicitly instead). */
function scalarsOnly(metadata: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!metadata) return undefined;
  const scalars = Object.fromEntries(Object.entries(metadata).filter(([, value]) => ['string', 'number', 'boolean'].includes(typeof value)));
  return Object.keys(scalars).length > 0 ? scalars : undefined;
}

/**
 * The Vision Event node's body: one event per item (fields from the item or defined
 * on the node, an image from a binary field uploaded and attached with its detections),
 * delivered in requests of up to 100. Each item gets its eventId, or its own error.
 */
export async function createVisionEvents(context: IExecuteFunctions): Promise<INodeExecutionData[]> {
  const node = context.getNode();
  const items = context.getInputData();
  let client: VisionEventsClient;
  let connection: RoboflowConnection;
  try {
    connection = await connectionOf(context);
    client = new VisionEventsClient({ connection });
  } catch (error) {
    throw nodeError(node, error);
  }
  const usedKeys = new Set<string>();
  const prepared: Array<{ index: number; event: VisionEvent }> = [];
  const failed = new Map<number, string>();
  const fail = (index: number, error: unknown): void => {
    const failure = nodeError(node, error, index);
    if (!context.continueOnFail()) throw failure;
    failed.set(index, failure.message);
  };
  try {
    for (let index = 0; index < items.length; index++) {
      try {
        const eventType = context.getNodeParameter('eventType', index) as EventType;
        const useCase = String(context.getNodeParameter('useCase', index, '')).trim();
        if (!useCase) throw new RoboflowError('invalid-input', 'Set the use case');
        const { id: useCaseId, key } = await cachedUseCaseId(client, connection, useCase, context.getNodeParameter('createUseCase', index, false) as boolean);
        usedKeys.add(key);
        let eventData: Record<string, unknown> | undefined;
        let metadata: Record<string, unknown> | undefined;
        if (context.getNodeParameter('fieldsFrom', index) === 'define') {
          eventData = jsonObject(context.getNodeParameter('eventData', index, '{}'), 'Event data');
          const fields = (context.getNodeParameter('metadata', index, {}) as { field?: Array<{ key: string; value: string }> }).field ?? [];
          metadata = Object.fromEntries(fields.filter((field) => field.key).map((field) => [field.key, field.value]));
        } else {
          const split = splitPayload(eventType, items[index].json);
          eventData = split.eventData;
          metadata = scalarsOnly(split.metadata);
        }
        const options = context.getNodeParameter('options', index, {}) ?? {};
        const event = buildEvent({
          eventType,
          useCaseId,
          ...(options.timestamp ? { timestamp: String(options.timestamp) } : {}),
          ...(eventData && Object.keys(eventData).length > 0 ? { eventData } : {}),
          metadata,
          deviceId: options.deviceId ? String(options.deviceId) : undefined,
          streamId: options.streamId ? String(options.streamId) : undefined,
          workflowId: options.workflowId ? String(options.workflowId) : undefined,
        });
        const detectionsField = String(options.detectionsField ?? '').trim();
        const detections = detectionsField ? pathValue(items[index].json, detectionsField) : undefined;
        const imageField = String(options.binaryPropertyName ?? '').trim();
        if (imageField) {
          context.helpers.assertBinaryData(index, imageField);
          const image = toImageBuffer(await context.helpers.getBinaryDataBuffer(index, imageField));
          const { sourceId } = await client.uploadImage(image);
          event.images = [{ sourceId, ...(detections !== undefined && detections !== null ? { objectDetections: toObjectDetections(detections) } : {}) }];
          // As Roboflow's own block does: the attached image is the one shown first.
          event.displayImagePosition = 0;
        } else if (detections !== undefined) {
          throw new RoboflowError('invalid-input', 'Detections are attached to an image: set the image binary field too');
        }
        prepared.push({ index, event });
      } catch (error) {
        fail(index, error);
      }
    }
    let outcomes: Awaited<ReturnType<typeof deliverEvents>> = [];
    if (prepared.length > 0) {
      try {
        outcomes = await deliverEvents(
          client,
          prepared.map((entry) => entry.event),
        );
      } catch (error) {
        if (error instanceof RoboflowError && error.code === 'not-found') usedKeys.forEach((key) => useCaseIds.delete(key));
        // The service or the key failed (not an event): every event of this run failed.
        for (const { index } of prepared) fail(index, error);
      }
    }
    // A use case deleted in the Roboflow app since it was cached: look it up again next time.
    if (outcomes.some((outcome) => !outcome.ok && outcome.error.code === 'not-found')) usedKeys.forEach((key) => useCaseIds.delete(key));
    const byId = new Map(outcomes.map((outcome) => [outcome.eventId, outcome]));
    for (const { index, event } of prepared) {
      const outcome = byId.get(event.eventId);
      if (outcome && !outcome.ok) fail(index, new RoboflowError(outcome.error.code, `Event rejected: ${outcome.error.message}`));
    }
    return items.map((item, index) => {
      const error = failed.get(index);
      if (error) return { json: { ...item.json, error }, pairedItem: { item: index } };
      const event = prepared.find((entry) => entry.index === index)?.event;
      return { json: { ...item.json, eventId: event?.eventId ?? null }, pairedItem: { item: index } };
    });
  } finally {
    await client.close();
  }
}
