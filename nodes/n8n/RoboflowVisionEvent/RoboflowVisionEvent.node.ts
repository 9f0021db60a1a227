import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { createVisionEvents } from './execute';
import { roboflowApiTest } from '../shared/credential-test';

export class RoboflowVisionEvent implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Roboflow Vision Event',
    name: 'roboflowVisionEvent',
    icon: { light: 'file:../../../icons/roboflow.svg', dark: 'file:../../../icons/roboflow.dark.svg' },
    group: ['output'],
    version: 1,
    subtitle: '={{$parameter["eventType"] + " → " + $parameter["useCase"]}}',
    description: 'Logs Roboflow Vision Events, with images and detections, in batches',
    defaults: { name: 'Roboflow Vision Event' },
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main],
    usableAsTool: true,
    credentials: [{ name: 'roboflowApi', required: true, testedBy: 'roboflowApiTest' }],
    properties: [
      {
        displayName: 'Use Case',
        name: 'useCase',
        type: 'string',
        default: '',
        required: true,
        placeholder: 'front-door',
        description: 'The use case ID or name (it must exist in the workspace, unless you allow creating it)',
      },
      {
        displayName: 'Create Use Case if Missing',
        name: 'createUseCase',
        type: 'boolean',
        default: false,
        description: 'Whether to create the use case when no use case has this ID or name',
      },
      {
        displayName: 'Event Type',
        name: 'eventType',
        type: 'options',
        options: [
          { name: 'Custom', value: 'custom' },
          { name: 'Inventory Count', value: 'inventory_count' },
          { name: 'Operator Feedback', value: 'operator_feedback' },
          { name: 'Quality Check', value: 'quality_check' },
          { name: 'Safety Alert', value: 'safety_alert' },
        ],
        default: 'custom',
      },
      {
        displayName: 'Event Fields',
        name: 'fieldsFrom',
        type: 'options',
        noDataExpression: true,
        options: [
          { name: 'From Item JSON', value: 'item', description: 'Fields the event type defines (e.g. severity) become event data; all others custom metadata' },
          { name: 'Define Below', value: 'define' },
        ],
        default: 'item',
      },
      {
        displayName: 'Event Data',
        name: 'eventData',
        type: 'json',
        default: '{}',
        description:
          'By type: safety_alert {alertType, severity, description}; quality_check {result, externalId}; inventory_count {location, itemCount, itemType}; custom {value}; operator_feedback {relatedEventId, feedback}',
        displayOptions: { show: { fieldsFrom: ['define'] } },
      },
      {
        displayName: 'Custom Metadata',
        name: 'metadata',
        type: 'fixedCollection',
        typeOptions: { multipleValues: true },
        placeholder: 'Add Metadata',
        default: {},
        displayOptions: { show: { fieldsFrom: ['define'] } },
        options: [
          {
            displayName: 'Field',
            name: 'field',
            values: [
              { displayName: 'Key', name: 'key', type: 'string', default: '' },
              { displayName: 'Value', name: 'value', type: 'string', default: '' },
            ],
          },
        ],
      },
      {
        displayName: 'Options',
        name: 'options',
        type: 'collection',
        placeholder: 'Add Option',
        default: {},
        options: [
          {
            displayName: 'Detections Field',
            name: 'detectionsField',
            type: 'string',
            default: '',
            placeholder: 'predictions',
            description: 'Item field holding detections to attach to the image (needs an image)',
          },
          { displayName: 'Device ID', name: 'deviceId', type: 'string', default: '' },
          {
            displayName: 'Image Binary Field',
            name: 'binaryPropertyName',
            type: 'string',
            default: '',
            placeholder: 'data',
            description: 'Binary field with a JPEG, PNG or WebP image (at most 20 MB) to upload and attach to the event',
          },
          { displayName: 'Stream ID', name: 'streamId', type: 'string', default: '' },
          {
            displayName: 'Timestamp',
            name: 'timestamp',
            type: 'string',
            default: '',
            description: 'When it happened (ISO 8601); empty: now',
          },
          { displayName: 'Workflow ID', name: 'workflowId', type: 'string', default: '' },
        ],
      },
    ],
  };

  methods = { credentialTest: { roboflowApiTest } };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    return [await createVisionEvents(this)];
  }
}
