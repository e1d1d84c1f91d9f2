// Renders metric families in the Prometheus text exposition format (version 0.0.4).
import { METRICS, type MetricDefinition, prometheusLabel } from '../conventions.js';
import type { MetricAttributes, MetricFamily, Series } from './PrometheusRegistry.js';

/** The content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** A sample value as Prometheus writes it. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function labels(attributes: MetricAttributes, extra?: readonly [string, string]): string {
  const parts: string[] = [];
  for (const name in attributes)
    parts.push(`${prometheusLabel(name)}="${escapeLabel(String(attributes[name]))}"`);
  if (extra) parts.push(`${extra[0]}="${extra[1]}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function histogramLines(name: string, bounds: readonly number[], series: Series): string[] {
  const lines: string[] = [];
  let cumulative = 0;
  bounds.forEach((bound, i) => {
    cumulative += series.buckets![i]!;
    lines.push(`${name}_bucket${labels(series.attributes, ['le', formatValue(bound)])} ${cumulative}`);
  });
  lines.push(`${name}_bucket${labels(series.attributes, ['le', '+Inf'])} ${series.count}`);
  lines.push(`${name}_sum${labels(series.attributes)} ${formatValue(series.value)}`);
  lines.push(`${name}_count${labels(series.attributes)} ${series.count}`);
  return lines;
}

/**
 * The text format of `families`, in the order of `METRICS`; families of the same metric (from
 * several registries) are merged under one `# HELP` and `# TYPE`.
 */
export function renderExposition(families: readonly MetricFamily[]): string {
  const merged = new Map<string, { definition: MetricDefinition; series: Series[] }>();
  for (const family of families) {
    const entry = merged.get(family.definition.prometheus) ?? { definition: family.definition, series: [] };
    entry.series.push(...family.series);
    merged.set(family.definition.prometheus, entry);
  }
  const order: readonly MetricDefinition[] = Object.values(METRICS);
  const sorted = [...merged].sort(
    ([, a], [, b]) => order.indexOf(a.definition) - order.indexOf(b.definition),
  );
  const lines: string[] = [];
  for (const [name, { definition, series }] of sorted) {
    lines.push(`# HELP ${name} ${escapeHelp(definition.description)}`);
    lines.push(`# TYPE ${name} ${definition.kind}`);
    for (const s of series) {
      if (definition.kind === 'histogram') lines.push(...histogramLines(name, definition.buckets ?? [], s));
      else lines.push(`${name}${labels(s.attributes)} ${formatValue(s.value)}`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
