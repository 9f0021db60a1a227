export { InferenceClient, parseModelId, type InferenceClientOptions, type WorkflowTarget, type RunWorkflowOptions, type WorkflowResult, type RunModelOptions, type ModelResult } from './client';
export { decodeOutputs, predictionsOf, workflowOutputs, modelAnswer, type DecodedOutputs, type DecodedModelAnswer, type ImageOutputs, type Prediction } from './answer';
export { MAX_IMAGE_BYTES, MAX_IMAGES_PER_REQUEST, sniffImage, toImageInput, toImageInputs, type ImageInput, type ImageFormat, type ImageCheckOptions } from './images';
export { filterDetections, type DetectionFilter } from './filter';
