// Reads a governor's gauges (limits, queue, active tasks) from its status at each collection.
import type { Governor } from '@tollgate/limits';
import { TOLLGATE_ATTR } from './conventions.js';
import type { GaugeSource } from './prometheus/PrometheusRegistry.js';

/** A gauge source for `governor`: nothing once it is disposed. */
export function governorGauges(governor: Governor): GaugeSource {
  return (observe) => {
    if (governor.disposed) return;
    const status = governor.checkResourceAvailability();
    const attributes = { [TOLLGATE_ATTR.governor]: status.governor };
    observe('queueDepth', status.queued, attributes);
    observe('activeTasks', status.activeTasks, attributes);
    for (const [name, limit] of Object.entries(status.limits)) {
      const labels = { ...attributes, [TOLLGATE_ATTR.limit]: name, [TOLLGATE_ATTR.resource]: limit.resource };
      observe('limitRemaining', status.remaining[name] ?? Math.floor(limit.remaining), labels);
      observe('limitMax', limit.limit, labels);
      const used = limit.capacity > 0 ? 1 - limit.remaining / limit.capacity : 0;
      observe('limitUtilization', Math.min(1, Math.max(0, used)), labels);
    }
  };
}
