// The public API of @tollgate/telemetry.
export type { CallTarget } from './clientEvents.js';
export {
  ADMITTED_EVENT,
  DURATION_BUCKETS,
  GEN_AI,
  METRICS,
  type MetricDefinition,
  type MetricKey,
  type MetricKind,
  prometheusLabel,
  RESERVATION_ERROR_BUCKETS,
  SPAN_NAMES,
  TOKEN_BUCKETS,
  TOLLGATE_ATTR,
} from './conventions.js';
export { INSTRUMENTATION_SCOPE, type InstrumentOptions, instrument, type Telemetry } from './instrument.js';
export { formatValue, PROMETHEUS_CONTENT_TYPE, renderExposition } from './prometheus/exposition.js';
export {
  type GaugeSource,
  type MetricAttributes,
  type MetricFamily,
  PrometheusRegistry,
  type Series,
} from './prometheus/PrometheusRegistry.js';
export {
  type MetricsSource,
  type PrometheusHandlerOptions,
  prometheusHandler,
} from './prometheus/prometheusHandler.js';
export { classify, type InstrumentTarget, type TollgateContainerLike } from './targets.js';
export { FLEET_AGENTS_GOVERNOR } from './wiring.js';
