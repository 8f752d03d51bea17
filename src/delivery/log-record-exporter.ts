/**
 * The members of OpenTelemetry's `LogRecordExporter` (`@opentelemetry/sdk-logs`, of its 2.x and 3.x
 * lines alike) that the `exporter` option's transport calls, declared here so that neither this
 * package nor its type declarations need `@opentelemetry/sdk-logs` installed: any exporter of either
 * line fits.
 */
export interface LogRecordExporter {
  export(records: ExportedLogRecord[], done: (result: { readonly code: number; readonly error?: Error }) => void): void;
  shutdown(): Promise<void>;
}

/** What an exporter reads of each record (sdk-logs' `ReadableLogRecord`). */
export interface ExportedLogRecord {
  readonly hrTime: [number, number];
  readonly hrTimeObserved: [number, number];
  readonly severityNumber?: number;
  readonly severityText?: string;
  readonly eventName?: string;
  readonly body?: unknown;
  readonly attributes: Record<string, unknown>;
  readonly spanContext?: { readonly traceId: string; readonly spanId: string; readonly traceFlags: number };
  readonly resource: ExportedResource;
  readonly instrumentationScope: { readonly name: string; readonly version?: string };
  readonly droppedAttributesCount: number;
}

/** The resource members exporters read (sdk-logs' `Resource`). */
export interface ExportedResource {
  readonly attributes: Record<string, unknown>;
  merge(other: ExportedResource | null): ExportedResource;
  getRawAttributes(): [string, unknown][];
}
