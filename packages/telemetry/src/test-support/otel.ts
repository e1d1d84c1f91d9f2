// The OpenTelemetry SDK with in-memory exporters, and helpers to read what they hold.
import type { HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** An SDK meter and tracer provider whose data stays in memory. */
export function inMemoryOtel() {
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  return {
    meterProvider,
    tracerProvider,
    spans: (): ReadableSpan[] => spanExporter.getFinishedSpans(),
    /** Collects now and returns every data point of metric `name`. */
    async points(name: string): Promise<DataPoint<number | Histogram>[]> {
      metricExporter.reset();
      await reader.forceFlush();
      const all = metricExporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
      return all
        .filter((m) => m.descriptor.name === name)
        .flatMap((m) => m.dataPoints as DataPoint<number | Histogram>[]);
    },
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

/** Sums a counter's points, or a histogram's `sum`s, over the points whose attributes include `match`. */
export function total(
  points: readonly DataPoint<number | Histogram>[],
  match: Record<string, string | number> = {},
  field: 'sum' | 'count' = 'sum',
): number {
  let sum = 0;
  for (const p of points) {
    if (!Object.entries(match).every(([k, v]) => p.attributes[k] === v)) continue;
    sum += typeof p.value === 'number' ? p.value : (p.value[field] ?? 0);
  }
  return sum;
}

export const hrMs = (t: HrTime) => t[0] * 1000 + t[1] / 1e6;
