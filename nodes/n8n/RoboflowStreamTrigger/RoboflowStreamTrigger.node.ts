import { NodeConnectionTypes, type INodeType, type INodeTypeDescription, type ITriggerFunctions, type ITriggerResponse } from 'n8n-workflow';
import { credentialTest } from '../shared/credential-test';
import { properties } from './properties';
import { runStreamTrigger } from './trigger';

export class RoboflowStreamTrigger implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Roboflow Stream Trigger',
    name: 'roboflowStreamTrigger',
    icon: { light: 'file:../../../icons/roboflow.svg', dark: 'file:../../../icons/roboflow.dark.svg' },
    group: ['trigger'],
    version: [1, 2, 3],
    defaultVersion: 3,
    subtitle: '={{ ($parameter["workflowMode"] === "specification" ? "workflow specification" : ($parameter["workflowId"] || "no workflow ID yet")) + " on " + $parameter["source"] }}',
    description: 'Runs a Roboflow Workflow on a live camera (read on this n8n host or by Roboflow) or a video and starts the workflow for analysed frames',
    defaults: { name: 'Roboflow Stream Trigger' },
    inputs: [],
    outputs: [NodeConnectionTypes.Main],
    credentials: [
      { name: 'roboflowApi', required: true, testedBy: 'roboflowApiTest' },
      {
        name: 'roboflowCameraLoginApi',
        required: true,
        testedBy: 'roboflowCameraLoginTest',
        displayOptions: { show: { source: ['rtsp', 'mjpeg'], cameraAuth: ['credential'] } },
      },
    ],
    properties,
  };

  methods = { credentialTest };

  async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
    return runStreamTrigger(this);
  }
}
