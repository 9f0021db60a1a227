/**
 * The engine: everything that speaks Roboflow. Framework-free: Node-RED and n8n nodes
 * map their configuration and messages onto these classes and nothing else.
 */
export * from './config';
export * from './errors';
export * from './redact';
export * from './logger';
export * from './backoff';
export { TypedEmitter } from './events';
export { HttpClient, DEFAULT_RETRY, type RequestOptions, type HttpResponse, type RetryPolicy, type AuthStyle } from './http/client';
export * from './stream/protocol';
export { ResultReassembler, parseResultChunk, encodeUploadChunk, type ReassemblyOutcome, type ReassemblerLimits } from './stream/chunks';
export { decodeResultPayload, decodeResultText, normaliseDocument } from './stream/payload';
export { DEFAULT_PROCESSING_TIMEOUT_S, buildInitRequest, normaliseIceServers, resolveIceServers, type WorkflowRef, type InitRequestBody } from './stream/signaling';
export {
  StreamSession,
  checkReconfigure,
  type StreamOptions,
  type StreamSource,
  type StreamResult,
  type StreamCompletion,
  type StreamEvents,
  type StreamStats,
  type CloseReason,
} from './stream/session';
export { ResilientStream, type ResilientStreamOptions, type ResilientState, type ResilientStreamEvents } from './stream/resilient-stream';
export { DEFAULT_RECONNECT, isFatal, reconnectDelay, type ReconnectPolicy } from './stream/reconnect';
export { ImageFrameSource, decodeImage, rgbaToI420, type DecodedFrame, type PushOutcome } from './stream/frame-source';
export { encodeI420AsJpeg, type VideoFrameEvent, type VideoOutputFormat } from './stream/video-sink';
export { checkVideoFile, type UploadProgress } from './stream/uploader';
export {
  VideoJobClient,
  jobTargetFor,
  normaliseJobStatus,
  normaliseBatchStatus,
  type JobTargetInput,
  type JobHandle,
  type JobStatus,
  type JobState,
  type JobTarget,
  type JobGeneration,
  type JobGenerationChoice,
  type WorkflowJobFields,
  type ModelSpec,
  type VideoInput,
  type RunOptions,
  type StartOptions,
  type WaitOptions,
} from './video-job/client';
export { normaliseJobResults, type VideoJobResults, type VideoJobFrame } from './video-job/results';
export { readJobHandle } from './video-job/handle';
export { BatchProcessingClient, batchUnavailable, newJobId, JOB_ID_PATTERN, type BatchJobOptions } from './video-job/batch';
export { DEDUCTED_IMAGE, aggregationFormatOf, decodeCsvValue, parseAggregation, parseCsv, parseJsonl, rowsToFrames, splitCsv, type AggregationFormat } from './video-job/aggregation';
export {
  MODEL_TASK_BLOCKS,
  buildModelWorkflow,
  checkModelRef,
  isModelRef,
  isModelTaskType,
  lookupTaskType,
  resolveWorkflow,
  type ModelRef,
  type ModelTaskType,
  type ResolvedWorkflowRef,
} from './stream/model-workflow';
export {
  buildEvent,
  toCustomMetadata,
  toObjectDetections,
  EVENT_TYPES,
  type VisionEvent,
  type EventInput,
  type EventType,
  type EventImage,
  type ObjectDetection,
  type MetadataValue,
} from './vision-events/builder';
export { VisionEventsClient, MAX_BATCH, type UseCase, type EventQuery } from './vision-events/client';
export { checkConnection, type ConnectionCheck } from './check';
export { JsonFile, fields, type JsonFileOptions, type Validator } from './persist';
export { EventOutbox, type OutboxOptions, type OutboxEvents } from './vision-events/outbox';
export { splitPayload, toImageBuffer, checkEventImage, MAX_EVENT_IMAGE_BYTES } from './vision-events/builder';
export { DeadLetterFile, type DeadLetter, type DeadLetterLimits } from './vision-events/dead-letter';
export { DEFAULT_MAX_INPUT_PIXELS, DEFAULT_MAX_SIDE, fitInside, imageType, openImage, readImageSize, type ImageLimits, type ImageSize, type ImageType, type OpenedImage } from './image';
export { deliverEvents, isEventFault, type DeliveryOutcome } from './vision-events/deliver';
export * from './objects';
export { StreamMetrics, type StreamMetricsSnapshot } from './stream/metrics';
export { withCameraLogin, splitCameraLogin, encodeUserinfo, type CameraLogin } from './camera-url';
export { type LiveStream } from './stream/resilient-stream';
export { CapturedStream, DEFAULT_CAMERA_RETRY, type CapturedStreamOptions, type CapturedStreamEvents, type CameraState } from './capture/captured-stream';
export { LocalCamera, cameraError, type CameraInfo, type CapturedFrame } from './capture/local-camera';
export { captureArgs, captureSettings, describeCamera, validateCamera, scaleFilter, DEFAULT_CAPTURE, HWACCELS, type CameraSource, type CaptureSettings, type Hwaccel } from './capture/camera-source';
export { findFfmpeg, requireFfmpeg, describeFfmpeg, firstFfmpegError, parseFfmpegVersion, rtspInputArgs, mjpegInputArgs, type FfmpegBinary } from './media/ffmpeg';
export { MotionDetector, shrinkLuma, DEFAULT_MOTION, type MotionSettings } from './gate/motion';
export { motionMask } from './gate/mask';
export { SessionGate, DEFAULT_GATE, type GateMode, type GateState, type GateSettings, type GateDecision, type GateNote, type GatedLiveStream } from './gate/session-gate';
export { hasDetections } from './gate/detections';
export {
  DailyBudget,
  MINUTES_PER_CREDIT,
  creditsToMinutes,
  minutesToCredits,
  localDay,
  parseBudgetState,
  type BudgetState,
  type BudgetStore,
  type DailyBudgetOptions,
  type BudgetEvents,
} from './budget/daily-budget';
export { GatedStream, type GatedStreamEvents } from './gate/gated-stream';
export * from './inference';
export { nameList, jsonObject, asBoolean, mergeParameters } from './options';
export {
  PipelineClient,
  videoReference,
  type PipelineSource,
  type InitialiseOptions,
  type ConsumedFrame,
  type FrameMetadata,
  type PipelineReport,
  type PipelineClientOptions,
} from './pipeline/client';
export { PipelineStream, pipelineStats, type PipelineStreamOptions, type PipelineStreamEvents, type PipelineStats } from './pipeline/pipeline-stream';
export { pipelineFingerprint, readPipelineHandle, type PipelineHandle, type PipelineIdentity } from './pipeline/handle';
