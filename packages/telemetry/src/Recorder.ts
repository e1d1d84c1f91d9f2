// Sends every measurement to two places: OpenTelemetry instruments (through the API only) and
// the Prometheus registry, so both see the same metrics.
import type { Counter, Histogram, Meter, ObservableGauge } from '@opentelemetry/api';
import { METRICS, type MetricDefinition, type MetricKey } from './conventions.js';
import type { GaugeSource, MetricAttributes, PrometheusRegistry } from './prometheus/PrometheusRegistry.js';

type Instrument = Counter | Histogram | ObservableGauge;

/** Where instrumentation writes: one call per measurement, whatever receives it. */
export class Recorder {
  readonly #meter: Meter;
  readonly #registry: PrometheusRegistry;
  readonly #instruments = new Map<MetricKey, Instrument>();
  readonly #removers: Array<() => void> = [];

  constructor(meter: Meter, registry: PrometheusRegistry) {
    this.#meter = meter;
    this.#registry = registry;
  }

  /** Adds to a counter. */
  add(key: MetricKey, value: number, attributes: MetricAttributes): void {
    (this.#instrument(key) as Counter).add(value, attributes);
    this.#registry.add(key, value, attributes);
  }

  /** Records a histogram value. */
  record(key: MetricKey, value: number, attributes: MetricAttributes): void {
    (this.#instrument(key) as Histogram).record(value, attributes);
    this.#registry.record(key, value, attributes);
  }

  /** Reads gauges from `source` at each collection and scrape, until {@link dispose}. */
  gauges(source: GaugeSource): void {
    const gauges = (Object.keys(METRICS) as MetricKey[]).filter((k) => METRICS[k].kind === 'gauge');
    const observables = gauges.map((k) => this.#instrument(k) as ObservableGauge);
    const callback = (result: {
      observe(o: ObservableGauge, value: number, attributes: MetricAttributes): void;
    }) =>
      source((key, value, attributes) =>
        result.observe(this.#instrument(key) as ObservableGauge, value, attributes),
      );
    this.#meter.addBatchObservableCallback(callback, observables);
    this.#removers.push(() => this.#meter.removeBatchObservableCallback(callback, observables));
    this.#removers.push(this.#registry.addGaugeSource(source));
  }

  /** Stops reading gauges. Counters and histograms keep what they have. */
  dispose(): void {
    for (const remove of this.#removers.splice(0)) remove();
  }

  #instrument(key: MetricKey): Instrument {
    let instrument = this.#instruments.get(key);
    if (instrument) return instrument;
    const def: MetricDefinition = METRICS[key];
    const options = { unit: def.unit, description: def.description };
    if (def.kind === 'counter') instrument = this.#meter.createCounter(def.name, options);
    else if (def.kind === 'gauge') instrument = this.#meter.createObservableGauge(def.name, options);
    else
      instrument = this.#meter.createHistogram(def.name, {
        ...options,
        ...(def.buckets ? { advice: { explicitBucketBoundaries: [...def.buckets] } } : {}),
      });
    this.#instruments.set(key, instrument);
    return instrument;
  }
}
