// What a governed client's events add to the metrics: GenAI token usage and durations, 429s,
// retries, failures, circuit changes and the reservation error.
import type { ClientEvent } from '@tollgate/llm-clients';
import { GEN_AI, TOLLGATE_ATTR } from './conventions.js';
import type { Recorder } from './Recorder.js';

/** Whom a client's calls go to: the GenAI attributes of its metrics and spans. */
export interface CallTarget {
  readonly provider: string;
  readonly model: string;
}

/** The state each provider's circuit was last seen in: clients sharing a breaker report each change once. */
export type CircuitStates = Map<string, string>;

/** Records one client event. */
export function recordClientEvent(
  event: ClientEvent,
  target: CallTarget,
  recorder: Recorder,
  circuits: CircuitStates,
): void {
  const call = { [GEN_AI.providerName]: target.provider, [GEN_AI.requestModel]: target.model };
  switch (event.type) {
    case 'call': {
      const op = { [GEN_AI.operationName]: GEN_AI.operations.chat, ...call };
      const { promptTokens, completionTokens } = event.usage;
      recorder.record('tokenUsage', promptTokens, { ...op, [GEN_AI.tokenType]: GEN_AI.tokenTypes.input });
      recorder.record('tokenUsage', completionTokens, {
        ...op,
        [GEN_AI.tokenType]: GEN_AI.tokenTypes.output,
      });
      recorder.record('operationDuration', event.durationMs / 1000, op);
      recorder.record('reservationError', event.estimateTokens - (promptTokens + completionTokens), call);
      return;
    }
    case 'rate-limited':
      recorder.add('rateLimited', 1, call);
      return;
    case 'retry':
      recorder.add('retries', 1, call);
      return;
    case 'failed':
      recorder.add('failures', 1, { ...call, [GEN_AI.errorType]: event.code });
      return;
    case 'circuit':
      if (circuits.get(target.provider) === event.state) return;
      circuits.set(target.provider, event.state);
      recorder.add('circuitChanges', 1, {
        [GEN_AI.providerName]: target.provider,
        [TOLLGATE_ATTR.state]: event.state,
      });
      return;
    default:
      return;
  }
}
