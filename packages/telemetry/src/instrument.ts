// `instrument`: OpenTelemetry metrics and spans, and Prometheus text, from a target's streams.
import { type MeterProvider, metrics, type TracerProvider, trace } from '@opentelemetry/api';
import { checkOptions, InvalidArgumentError, optionRules, rule, TOKENS } from '@tollgate/core';
import type { Governor } from '@tollgate/limits';
import type { LLMClient } from '@tollgate/llm-clients';
import type { CallTarget } from './clientEvents.js';
import { renderExposition } from './prometheus/exposition.js';
import { PrometheusRegistry } from './prometheus/PrometheusRegistry.js';
import { Recorder } from './Recorder.js';
import { SpanTracker } from './spans/SpanTracker.js';
import { type Classified, classify, type InstrumentTarget } from './targets.js';
import { type Wiring, wireAgent, wireClient, wireFleet, wireGovernor } from './wiring.js';

/** The instrumentation scope name of Tollgate's meter and tracer. */
export const INSTRUMENTATION_SCOPE = '@tollgate/telemetry';

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /** Where metrics go. @default the global meter provider (`metrics.getMeterProvider()`: a no-op until an SDK registers one) */
  readonly meterProvider?: MeterProvider | undefined;
  /** Where spans go. @default the global tracer provider (`trace.getTracerProvider()`) */
  readonly tracerProvider?: TracerProvider | undefined;
  /** Keeps the metrics for `prometheusHandler`; share one between several `instrument` calls. @default a new one */
  readonly registry?: PrometheusRegistry | undefined;
  /**
   * `gen_ai.provider.name` of the calls, where the target does not tell it (a fleet's agents).
   * @default the client's `provider` (a client or an agent), else 'unknown'
   */
  readonly provider?: string | undefined;
  /** `gen_ai.request.model` of the calls. @default the agent's or client's model, or the fleet's `model`, else 'unknown' */
  readonly model?: string | undefined;
}

/** What {@link instrument} returns. */
export interface Telemetry {
  /** The metrics as Prometheus scrapes them (see `prometheusHandler`). */
  readonly registry: PrometheusRegistry;
  /** The metrics now, in the Prometheus text exposition format. */
  metricsText(): string;
  /** Unsubscribes from every stream and ends the task spans still open. Idempotent. */
  dispose(): void;
}

function callTarget(classified: Classified, options: InstrumentOptions): CallTarget {
  let client: Pick<LLMClient, 'provider' | 'model'> | undefined;
  let model: string | undefined;
  if (classified.kind === 'client') client = classified.target;
  else if (classified.kind === 'agent') {
    client = classified.target.client;
    model = classified.target.model;
  } else if (classified.kind === 'fleet') {
    const fleetModel = classified.target.estimate(0).model;
    if (fleetModel !== 'unknown') model = fleetModel;
  } else if (classified.kind === 'container' && classified.target.isBound(TOKENS.LLMClient))
    client = classified.target.get(TOKENS.LLMClient) as LLMClient;
  return {
    provider: options.provider ?? client?.provider ?? 'unknown',
    model: options.model ?? model ?? client?.model ?? 'unknown',
  };
}

function wire(classified: Classified, target: CallTarget, w: Wiring): void {
  switch (classified.kind) {
    case 'governor':
      wireGovernor(classified.target, w);
      return;
    case 'client':
      wireClient(classified.target, target, w);
      return;
    case 'agent':
      wireAgent(classified.target, target, w);
      return;
    case 'fleet':
      wireFleet(classified.target, target, w);
      return;
    case 'container':
      if (!classified.target.isBound(TOKENS.ProviderGovernor))
        throw new InvalidArgumentError(
          'instrument(container)',
          'a container with the Tollgate bindings (createTollgateContainer)',
          classified.target,
        );
      wireGovernor(classified.target.get(TOKENS.ProviderGovernor) as Governor, w);
      return;
  }
}

/**
 * Reports what `target` does as OpenTelemetry metrics and spans (GenAI conventions) and keeps
 * the same metrics for Prometheus. The target is a governor, a governed client, an agent, a
 * fleet (its governors and every agent it runs) or a container (its shared provider governor).
 * Only `@opentelemetry/api` is used: pass an SDK's providers, or register them globally.
 *
 * @example
 * const telemetry = instrument(fleet, { meterProvider, tracerProvider });
 * http.createServer(prometheusHandler(telemetry)).listen(9464, '127.0.0.1');
 * // ... later
 * telemetry.dispose();
 *
 * @throws InvalidArgumentError when the target is none of these, or an option is wrong.
 */
export function instrument(target: InstrumentTarget, options: InstrumentOptions = {}): Telemetry {
  const classified = classify(target);
  if (!classified)
    throw new InvalidArgumentError(
      'instrument target',
      'a governor, a governed client, an agent, a fleet or a Tollgate container',
      target,
    );
  const isObject = (v: unknown) => typeof v === 'object' && v !== null;
  checkOptions('instrument', options, {
    meterProvider: rule(
      'a MeterProvider',
      (v) => isObject(v) && typeof (v as MeterProvider).getMeter === 'function',
    ),
    tracerProvider: rule(
      'a TracerProvider',
      (v) => isObject(v) && typeof (v as TracerProvider).getTracer === 'function',
    ),
    registry: rule('a PrometheusRegistry', (v) => v instanceof PrometheusRegistry),
    provider: optionRules.string,
    model: optionRules.string,
  });
  const registry = options.registry ?? new PrometheusRegistry();
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_SCOPE);
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_SCOPE);
  const w: Wiring = {
    recorder: new Recorder(meter, registry),
    spans: new SpanTracker(tracer),
    circuits: new Map(),
    direct: new Set(),
    subscriptions: [],
  };
  wire(classified, callTarget(classified, options), w);
  let disposed = false;
  return {
    registry,
    metricsText: () => renderExposition(registry.collect()),
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const s of w.subscriptions.splice(0)) s.unsubscribe();
      w.recorder.dispose();
      w.spans.dispose();
    },
  };
}
