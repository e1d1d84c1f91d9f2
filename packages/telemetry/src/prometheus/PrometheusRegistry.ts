// Keeps Tollgate's metrics in this process for the Prometheus text format: counters and
// histograms as they are recorded, gauges read from their sources at each scrape.
import { METRICS, type MetricDefinition, type MetricKey } from '../conventions.js';

/** Attributes of one measurement. */
export type MetricAttributes = Readonly<Record<string, string | number>>;

/** Reports the current value of gauges: called once per scrape or collection. */
export type GaugeSource = (
  observe: (key: MetricKey, value: number, attributes: MetricAttributes) => void,
) => void;

/** One labelled series of a metric. */
export interface Series {
  readonly attributes: MetricAttributes;
  /** Counter or gauge value; a histogram's sum. */
  value: number;
  /** Histogram only: per-bucket (not cumulative) counts, one more than the boundaries (+Inf). */
  readonly buckets?: number[];
  count: number;
}

/** One metric with its series, as a scrape sees it. */
export interface MetricFamily {
  readonly definition: MetricDefinition;
  readonly series: readonly Series[];
}

const seriesKey = (attributes: MetricAttributes): string => {
  let key = '';
  for (const name in attributes) key += `${name}\u0001${attributes[name]}\u0002`;
  return key;
};

/**
 * Tollgate's metrics for a Prometheus scrape. `instrument` writes to one (its own unless
 * given one); `prometheusHandler` serves one or more.
 */
export class PrometheusRegistry {
  readonly #series = new Map<MetricKey, Map<string, Series>>();
  readonly #gauges = new Set<GaugeSource>();

  /** Adds `value` to a counter. */
  add(key: MetricKey, value: number, attributes: MetricAttributes): void {
    this.#find(key, attributes).value += value;
  }

  /** Records one value of a histogram. */
  record(key: MetricKey, value: number, attributes: MetricAttributes): void {
    const series = this.#find(key, attributes);
    const bounds = (METRICS[key] as MetricDefinition).buckets ?? [];
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    series.buckets![i]!++;
    series.value += value;
    series.count++;
  }

  /** Reads gauges from `source` at every scrape, until the returned function is called. */
  addGaugeSource(source: GaugeSource): () => void {
    this.#gauges.add(source);
    return () => this.#gauges.delete(source);
  }

  /** Every metric with at least one series, in the order of {@link METRICS}. */
  collect(): MetricFamily[] {
    const gauges = new Map<MetricKey, Series[]>();
    for (const source of this.#gauges)
      source((key, value, attributes) => {
        const list = gauges.get(key) ?? [];
        list.push({ attributes, value, count: 1 });
        gauges.set(key, list);
      });
    const families: MetricFamily[] = [];
    for (const key of Object.keys(METRICS) as MetricKey[]) {
      const series = gauges.get(key) ?? [...(this.#series.get(key)?.values() ?? [])];
      if (series.length > 0) families.push({ definition: METRICS[key], series });
    }
    return families;
  }

  #find(key: MetricKey, attributes: MetricAttributes): Series {
    let byLabels = this.#series.get(key);
    if (!byLabels) {
      byLabels = new Map();
      this.#series.set(key, byLabels);
    }
    const id = seriesKey(attributes);
    let series = byLabels.get(id);
    if (!series) {
      const bounds = (METRICS[key] as MetricDefinition).buckets;
      series = {
        attributes,
        value: 0,
        count: 0,
        ...(bounds ? { buckets: new Array(bounds.length + 1).fill(0) } : {}),
      };
      byLabels.set(id, series);
    }
    return series;
  }
}
