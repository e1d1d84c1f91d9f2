// The metrics table of docs/observability.md, made from METRICS (a test keeps the two equal).
import { METRICS, type MetricDefinition, prometheusLabel } from '../conventions.js';

export function metricsTable(): string {
  const rows = (Object.values(METRICS) as MetricDefinition[]).map(
    (m) =>
      `| \`${m.name}\` | \`${m.prometheus}\` | ${m.kind} | \`${m.unit}\` | ${m.attributes
        .map((a) => `\`${a}\` (\`${prometheusLabel(a)}\`)`)
        .join(', ')} | ${m.description} |`,
  );
  return [
    '| OpenTelemetry name | Prometheus name | type | unit | attributes (Prometheus label) | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
