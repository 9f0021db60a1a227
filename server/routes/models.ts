import { checkKey, injectFault, requestKey, type ServerContext } from '../context';
import { HttpError, sendJson, type Router } from '../http';
import { BUILTIN_MODELS, findModel } from '../workflows/models';

/**
 * The model registry's look-up, as Roboflow's Python SDK reads it to stream a model id
 * (docs/protocol.md §8): `GET /models/v1/external/stat?modelId=…` with a Bearer key,
 * answering the task type in `modelMetadata.taskType`; 404 for a model no one knows.
 */
export function addModelRoutes(router: Router, context: ServerContext): void {
  router.add('GET', '/models/v1/external/stat', 'model_stat', (req, res, _params, url) => {
    injectFault(context, 'model_stat');
    checkKey(context, requestKey(req, url));
    const modelId = url.searchParams.get('modelId') ?? '';
    if (!modelId) throw new HttpError(400, { message: 'modelId is required' });
    const model = findModel(modelId);
    if (!model) {
      throw new HttpError(404, { message: `Model ${modelId} not found (this local server knows: ${BUILTIN_MODELS.map((known) => known.id).join(', ')})` });
    }
    sendJson(res, 200, { modelId: model.id, modelMetadata: { taskType: model.taskType, classes: model.classes } });
  });
}
