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
    subtitle:
      '={{ ($parameter["workflowMode"] === "specification" ? "workflow specification" : $parameter["workflowMode"] === "model" ? ($parameter["model"] || "no model yet") : ($parameter["workflowId"] || "no workflow ID yet")) + " on " + $parameter["source"] + ($parameter["streamType"] === "pipeline" ? " (self-hosted pipeline)" : "") }}',
    description:
      'Runs a Roboflow Workflow or trained model on a live camera (read on this n8n host, by Roboflow, or by a self-hosted Inference pipeline) or a video and starts the workflow for analysed frames',
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
