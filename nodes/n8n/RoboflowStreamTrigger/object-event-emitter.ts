import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { ObjectEvents, describeEvent, detectionsIn, videoTimeMs, type Logger, type ObjectEvent, type StreamResult } from '../../../lib';
import type { ObjectSettings } from './settings';

/**
 * Object events from the stream's results: files on the video's own clock (so times and
 * dwell are seconds into the video), cameras on the wall clock (objects also leave when
 * results stop coming, checked every half second).
 */
export class ObjectEventEmitter {
  private readonly objects: ObjectEvents;
  private readonly ticker: NodeJS.Timeout | undefined;
  private warned = false;

  constructor(
    private readonly settings: ObjectSettings,
    private readonly videoClock: boolean,
    private readonly emit: (items: INodeExecutionData[]) => void,
    private readonly logger: Logger,
  ) {
    this.objects = new ObjectEvents(settings.options);
    if (!videoClock) this.ticker = setInterval(() => this.send(this.objects.expire(Date.now())), 500);
  }

  result(result: StreamResult): void {
    const found = detectionsIn(result.data, this.settings.field);
    if (!found) {
      if (!this.warned) this.logger.warn(`Roboflow stream: no "${this.settings.field}" output in the results; set Detections Output to the workflow's detections`);
      this.warned = true;
      return;
    }
    const now = this.videoClock ? (videoTimeMs(result.metadata) ?? Date.now()) : Date.now();
    this.send(this.objects.update(found.detections, now));
  }

  /** The source ended: everyone still there leaves. */
  end(): void {
    this.send(this.objects.end());
  }

  close(): void {
    clearInterval(this.ticker);
  }

  private send(events: ObjectEvent[]): void {
    const items = events.filter((event) => this.settings.events.has(event.type)).map((event) => ({ json: describeEvent(event, this.videoClock ? 'video' : 'wall') as IDataObject }));
    if (items.length > 0) this.emit(items);
  }
}
