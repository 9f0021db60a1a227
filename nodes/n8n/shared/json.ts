import type { IDataObject } from 'n8n-workflow';

/**
 * An engine value (job handles, per-frame results) as an n8n item's JSON: a plain copy
 * through JSON, so nothing that is not JSON (undefined, class instances) reaches n8n.
 */
export function toItemJson(value: object): IDataObject {
  return JSON.parse(JSON.stringify(value)) as IDataObject;
}
