import type { IAuthenticateGeneric, ICredentialType, INodeProperties } from 'n8n-workflow';

export class RoboflowApi implements ICredentialType {
  name = 'roboflowApi';

  displayName = 'Roboflow API';

  icon = { light: 'file:../icons/roboflow.svg', dark: 'file:../icons/roboflow.dark.svg' } as const;

  documentationUrl = 'https://docs.roboflow.com/api-reference/authentication';

  properties: INodeProperties[] = [
    {
      displayName: 'API Key',
      name: 'apiKey',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      required: true,
      description: 'Your Roboflow API key (Roboflow app: Settings > API Keys)',
    },
    {
      displayName: 'Region',
      name: 'region',
      type: 'options',
      options: [
        { name: 'US', value: 'us' },
        { name: 'EU', value: 'eu' },
        { name: 'Asia Pacific', value: 'ap' },
        { name: 'Other…', value: 'other' },
      ],
      default: 'us',
      description: 'Where Roboflow runs your streams',
    },
    {
      displayName: 'Custom Region',
      name: 'customRegion',
      type: 'string',
      default: '',
      required: true,
      placeholder: 'e.g. eu-west',
      description: 'A region name the service knows (letters, digits and dashes), passed on as typed',
      displayOptions: { show: { region: ['other'] } },
    },
    {
      displayName: 'GPU Plan',
      name: 'plan',
      type: 'options',
      options: [
        { name: 'Small (Cheapest, Server Default)', value: 'webrtc-gpu-small' },
        { name: 'Medium (Recommended)', value: 'webrtc-gpu-medium' },
        { name: 'Large (SAM3-Class Models)', value: 'webrtc-gpu-large' },
      ],
      // Small stays the default although Roboflow recommends medium for new setups: n8n
      // stores no default in a saved credential, so a new default would silently move
      // every existing credential to a dearer plan. The option names say which to pick.
      default: 'webrtc-gpu-small',
      description: 'The GPU behind each stream',
    },
    {
      displayName: 'Server URL',
      name: 'serverUrl',
      type: 'string',
      default: 'https://serverless.roboflow.com',
      description:
        'The streaming server: Roboflow (https://serverless.roboflow.com, EU: https://serverless.roboflow.eu), a self-hosted Inference server (http://host:9001), or the local development server',
    },
    {
      displayName: 'API URL',
      name: 'apiUrl',
      type: 'string',
      default: 'https://api.roboflow.com',
      description: 'The REST API for the key check, TURN, video jobs and Vision Events (EU: https://api.roboflow.eu; the local development server: the same URL as the Server URL)',
    },
  ];

  authenticate: IAuthenticateGeneric = {
    type: 'generic',
    properties: {
      qs: { api_key: '={{$credentials.apiKey}}' },
    },
  };

  // No `test` here: the nodes name a function test (`testedBy: roboflowApiTest`, see
  // nodes/n8n/shared/credential-test.ts) that checks the API URL and the Server URL
  // and says which one failed; a declarative test request can check only one URL.
}
