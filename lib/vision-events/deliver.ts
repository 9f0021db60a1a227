import { toRoboflowError, type RoboflowError } from '../errors';
import type { VisionEvent } from './builder';
import { MAX_BATCH, type VisionEventsClient } from './client';

export type DeliveryOutcome = { eventId: string; ok: true } | { eventId: string; ok: false; error: RoboflowError };

/** Errors about an event itself (validation), as opposed to the service or the key. */
export function isEventFault(error: RoboflowError): boolean {
  return error.code === 'bad-request' || error.code === 'invalid-input';
}

/**
 * Sends events in requests of at most 100. When the service refuses a batch as
 * invalid, its events are sent one by one so each gets its own verdict. Other failures
 * (network, key, service) are thrown: the caller decides whether to retry.
 */
export async function deliverEvents(client: VisionEventsClient, events: VisionEvent[], signal?: AbortSignal): Promise<DeliveryOutcome[]> {
  const outcomes: DeliveryOutcome[] = [];
  for (let start = 0; start < events.length; start += MAX_BATCH) {
    const batch = events.slice(start, start + MAX_BATCH);
    try {
      if (batch.length === 1) await client.create(batch[0], signal);
      else await client.createBatch(batch, signal);
      outcomes.push(...batch.map((event) => ({ eventId: event.eventId, ok: true as const })));
    } catch (caught) {
      if (!isEventFault(toRoboflowError(caught))) throw caught;
      for (const event of batch) {
        try {
          await client.create(event, signal);
          outcomes.push({ eventId: event.eventId, ok: true });
        } catch (single) {
          const error = toRoboflowError(single);
          if (!isEventFault(error)) throw single;
          outcomes.push({ eventId: event.eventId, ok: false, error });
        }
      }
    }
  }
  return outcomes;
}
