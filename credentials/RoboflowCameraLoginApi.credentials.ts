import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * A camera's user name and password, kept in n8n's encrypted credential store instead
 * of the workflow JSON. The Roboflow Stream Trigger puts them into the RTSP/MJPEG URL
 * only when it connects (percent-encoded, so any character works).
 */
export class RoboflowCameraLoginApi implements ICredentialType {
  name = 'roboflowCameraLoginApi';

  displayName = 'Roboflow Camera Login API';

  icon = { light: 'file:../icons/roboflow.svg', dark: 'file:../icons/roboflow.dark.svg' } as const;

  documentationUrl = 'https://inference.roboflow.com/workflows/video_processing/overview/';

  properties: INodeProperties[] = [
    {
      displayName: 'User Name',
      name: 'username',
      type: 'string',
      default: '',
      required: true,
      description: 'The camera user (leave it out of the camera URL on the node)',
    },
    {
      displayName: 'Password',
      name: 'password',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description: 'The camera password; any character works (it is percent-encoded into the URL when the stream starts)',
    },
  ];

  // No `test` here: the Stream Trigger names a function test (`testedBy:
  // roboflowCameraLoginTest`); the camera URL lives on the node, so it can only check
  // the fields and say that the camera itself checks the login when a stream starts.
}
