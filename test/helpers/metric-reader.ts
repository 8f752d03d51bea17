import { MetricReader } from '@opentelemetry/sdk-metrics';

/** A metric reader that collects when a test asks (`reader.collect()`), never on its own. */
export class OnDemandReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}
