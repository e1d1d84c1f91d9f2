import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { renderExposition } from './exposition.js';
import { PrometheusRegistry } from './PrometheusRegistry.js';

describe('the Prometheus text format', () => {
  it('escapes label values, so a parser reads them back as they were', () => {
    const registry = new PrometheusRegistry();
    const name = 'provider:"quoted"\\back\nline';
    registry.add('admissions', 3, { 'tollgate.governor': name });
    const [family] = parsePrometheusTextFormat(renderExposition(registry.collect()));
    expect(family?.name).toBe('tollgate_admissions_total');
    expect(family?.metrics[0]?.labels).toEqual({ governor: name });
    expect(family?.metrics[0]?.value).toBe('3');
  });

  it('writes cumulative histogram buckets, +Inf, sum and count', () => {
    const registry = new PrometheusRegistry();
    for (const v of [0.005, 0.015, 0.015, 100]) registry.record('waitDuration', v, {});
    const text = renderExposition(registry.collect());
    expect(text).toContain('tollgate_wait_duration_seconds_bucket{le="0"} 0');
    expect(text).toContain('tollgate_wait_duration_seconds_bucket{le="0.01"} 1');
    expect(text).toContain('tollgate_wait_duration_seconds_bucket{le="0.02"} 3');
    expect(text).toContain('tollgate_wait_duration_seconds_bucket{le="81.92"} 3');
    expect(text).toContain('tollgate_wait_duration_seconds_bucket{le="+Inf"} 4');
    const [family] = parsePrometheusTextFormat(text);
    expect(family).toMatchObject({ type: 'HISTOGRAM', metrics: [{ count: '4', sum: '100.035' }] });
  });

  it('merges the same metric from several registries under one HELP and TYPE', () => {
    const a = new PrometheusRegistry();
    const b = new PrometheusRegistry();
    a.add('cooldowns', 1, { 'tollgate.governor': 'a' });
    b.add('cooldowns', 2, { 'tollgate.governor': 'b' });
    b.addGaugeSource((observe) => observe('queueDepth', 7, { 'tollgate.governor': 'b' }));
    const text = renderExposition([...a.collect(), ...b.collect()]);
    expect(text.match(/# TYPE tollgate_cooldowns_total counter/g)).toHaveLength(1);
    const families = parsePrometheusTextFormat(text);
    expect(families.map((f) => [f.name, f.type, f.metrics.length])).toEqual([
      ['tollgate_queue_depth', 'GAUGE', 1],
      ['tollgate_cooldowns_total', 'COUNTER', 2],
    ]);
  });
});
