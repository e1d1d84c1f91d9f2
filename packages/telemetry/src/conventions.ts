// The one place that names what Tollgate reports: OpenTelemetry GenAI semantic conventions (still
// in development upstream, so any rename happens here only) and Tollgate's own metrics.

/**
 * Attribute keys, span names and values of the OpenTelemetry GenAI semantic conventions, as
 * of the conventions' 2025–2026 drafts (`gen_ai.provider.name` replaced `gen_ai.system`).
 */
export const GEN_AI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  tokenType: 'gen_ai.token.type',
  errorType: 'error.type',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  finishReasons: 'gen_ai.response.finish_reasons',
  agentId: 'gen_ai.agent.id',
  agentName: 'gen_ai.agent.name',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolType: 'gen_ai.tool.type',
  operations: { chat: 'chat', invokeAgent: 'invoke_agent', executeTool: 'execute_tool' },
  tokenTypes: { input: 'input', output: 'output' },
} as const;

/** Tollgate's own attribute keys, on metrics and spans. */
export const TOLLGATE_ATTR = {
  governor: 'tollgate.governor',
  limit: 'tollgate.limit',
  resource: 'tollgate.resource',
  reason: 'tollgate.reason',
  state: 'tollgate.circuit.state',
  attempt: 'tollgate.attempt',
  waitSeconds: 'tollgate.wait.duration',
  taskId: 'tollgate.task.id',
  taskStatus: 'tollgate.task.status',
} as const;

/** Span names: `{operation} {subject}`, as the GenAI conventions ask. */
export const SPAN_NAMES = {
  chat: (model: string) => `${GEN_AI.operations.chat} ${model}`,
  invokeAgent: (agent: string) => `${GEN_AI.operations.invokeAgent} ${agent}`,
  executeTool: (tool: string) => `${GEN_AI.operations.executeTool} ${tool}`,
} as const;

/** Name of the span event a chat span gets for each admission at a governor. */
export const ADMITTED_EVENT = 'tollgate.admitted';

/** Bucket boundaries the GenAI conventions recommend for token counts. */
export const TOKEN_BUCKETS: readonly number[] = [
  1, 4, 16, 64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864,
];

/** Bucket boundaries the GenAI conventions recommend for durations, seconds. */
export const DURATION_BUCKETS: readonly number[] = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/** Estimate minus actual tokens: negative when a call used more than it reserved. */
export const RESERVATION_ERROR_BUCKETS: readonly number[] = [
  -4_096, -1_024, -256, -64, -16, 0, 16, 64, 256, 1_024, 4_096, 16_384,
];

/** How a metric is measured. */
export type MetricKind = 'counter' | 'histogram' | 'gauge';

/** One metric Tollgate reports: its OpenTelemetry name and its Prometheus name. */
export interface MetricDefinition {
  readonly name: string;
  /** The name in the Prometheus text format (counters end in `_total`, seconds in `_seconds`). */
  readonly prometheus: string;
  readonly kind: MetricKind;
  /** UCUM unit, as OpenTelemetry writes it. */
  readonly unit: string;
  readonly description: string;
  /** Attribute keys it carries. */
  readonly attributes: readonly string[];
  /** Histogram bucket boundaries. */
  readonly buckets?: readonly number[];
}

const G = TOLLGATE_ATTR.governor;
const CALL = [GEN_AI.providerName, GEN_AI.requestModel] as const;
const LIMIT = [G, TOLLGATE_ATTR.limit, TOLLGATE_ATTR.resource] as const;

/** Every metric, by key. docs/observability.md's table is this list. */
export const METRICS = {
  limitRemaining: {
    name: 'tollgate.limit.remaining',
    prometheus: 'tollgate_limit_remaining',
    kind: 'gauge',
    unit: '{unit}',
    description: 'What a rate limit could admit now (0 while in debt), in its resource units.',
    attributes: LIMIT,
  },
  limitMax: {
    name: 'tollgate.limit.max',
    prometheus: 'tollgate_limit_max',
    kind: 'gauge',
    unit: '{unit}',
    description: 'The rate limit: most units per window.',
    attributes: LIMIT,
  },
  limitUtilization: {
    name: 'tollgate.limit.utilization',
    prometheus: 'tollgate_limit_utilization_ratio',
    kind: 'gauge',
    unit: '1',
    description:
      'Share of the limit in use now, 1 - remaining / capacity: for a sliding window, what the last window used.',
    attributes: LIMIT,
  },
  queueDepth: {
    name: 'tollgate.queue.depth',
    prometheus: 'tollgate_queue_depth',
    kind: 'gauge',
    unit: '{call}',
    description: 'Callers waiting for admission.',
    attributes: [G],
  },
  activeTasks: {
    name: 'tollgate.tasks.active',
    prometheus: 'tollgate_tasks_active',
    kind: 'gauge',
    unit: '{task}',
    description: 'Concurrency slots in use.',
    attributes: [G],
  },
  waitDuration: {
    name: 'tollgate.wait.duration',
    prometheus: 'tollgate_wait_duration_seconds',
    kind: 'histogram',
    unit: 's',
    description: 'Time from acquire to admission, per admission.',
    attributes: [G],
    buckets: [0, ...DURATION_BUCKETS],
  },
  admissions: {
    name: 'tollgate.admissions',
    prometheus: 'tollgate_admissions_total',
    kind: 'counter',
    unit: '{acquire}',
    description: 'Acquires admitted.',
    attributes: [G],
  },
  rejections: {
    name: 'tollgate.rejections',
    prometheus: 'tollgate_rejections_total',
    kind: 'counter',
    unit: '{acquire}',
    description:
      'Acquires refused, by reason: the limit that refused (reject mode, or a cost no limit can grant), `wait_timeout` or `aborted`.',
    attributes: [G, TOLLGATE_ATTR.reason],
  },
  cooldowns: {
    name: 'tollgate.cooldowns',
    prometheus: 'tollgate_cooldowns_total',
    kind: 'counter',
    unit: '{cooldown}',
    description: 'Cooldowns started (a provider answered 429): nobody is admitted until they end.',
    attributes: [G],
  },
  rateLimited: {
    name: 'tollgate.provider.rate_limited',
    prometheus: 'tollgate_provider_rate_limited_total',
    kind: 'counter',
    unit: '{response}',
    description: '429 answers seen from the provider.',
    attributes: CALL,
  },
  retries: {
    name: 'tollgate.retries',
    prometheus: 'tollgate_retries_total',
    kind: 'counter',
    unit: '{attempt}',
    description: 'Calls retried after a failed attempt.',
    attributes: CALL,
  },
  failures: {
    name: 'tollgate.call.failures',
    prometheus: 'tollgate_call_failures_total',
    kind: 'counter',
    unit: '{call}',
    description: 'Calls that failed after their last attempt, by error code.',
    attributes: [...CALL, GEN_AI.errorType],
  },
  circuitChanges: {
    name: 'tollgate.circuit.changes',
    prometheus: 'tollgate_circuit_changes_total',
    kind: 'counter',
    unit: '{change}',
    description: 'Circuit breaker state changes, by the state entered (closed, open, half-open).',
    attributes: [GEN_AI.providerName, TOLLGATE_ATTR.state],
  },
  reservationError: {
    name: 'tollgate.reservation.error',
    prometheus: 'tollgate_reservation_error_tokens',
    kind: 'histogram',
    unit: '{token}',
    description:
      'Tokens reserved (prompt estimate + max output) minus tokens used, per call: how good the estimates are.',
    attributes: CALL,
    buckets: RESERVATION_ERROR_BUCKETS,
  },
  tokenUsage: {
    name: 'gen_ai.client.token.usage',
    prometheus: 'gen_ai_client_token_usage',
    kind: 'histogram',
    unit: '{token}',
    description: 'Input and output tokens per call (GenAI conventions).',
    attributes: [GEN_AI.operationName, ...CALL, GEN_AI.tokenType],
    buckets: TOKEN_BUCKETS,
  },
  operationDuration: {
    name: 'gen_ai.client.operation.duration',
    prometheus: 'gen_ai_client_operation_duration_seconds',
    kind: 'histogram',
    unit: 's',
    description:
      "A call's successful attempt, from its acquire to its reply (the admission wait included: tollgate.wait.duration tells it apart).",
    attributes: [GEN_AI.operationName, ...CALL],
    buckets: DURATION_BUCKETS,
  },
} as const satisfies Record<string, MetricDefinition>;

/** The key of a metric in {@link METRICS}. */
export type MetricKey = keyof typeof METRICS;

/**
 * The Prometheus label of an attribute key: Tollgate's own lose their `tollgate.` prefix
 * (`tollgate.governor` is `governor`), the rest swap dots for underscores
 * (`gen_ai.token.type` is `gen_ai_token_type`).
 */
export function prometheusLabel(attribute: string): string {
  return attribute.replace(/^tollgate\./, '').replace(/[^a-zA-Z0-9_]/g, '_');
}
