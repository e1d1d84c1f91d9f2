// A model's stream passed through the tollgate: hold ended at the first part, settled once at its end.
import { onAbort } from '@tollgate/core';
import type { AttemptContext, Gate } from './Gate.js';
import type { Reservation, Toll } from './Toll.js';
import type { ModelStreamPart, ModelUsage } from './types.js';
import { readModelUsage } from './usage.js';

/** Where a governed stream comes from, for settling it. */
export interface StreamCall {
  readonly gate: Gate;
  readonly toll: Toll;
  readonly reservation: Reservation;
  readonly context: AttemptContext;
  readonly signal: AbortSignal | undefined;
  readonly modelId: string;
}

/** The text a part adds to the reply, for counting a stream that reports no usage. */
function producedText(part: ModelStreamPart, sawInputDeltas: boolean): string {
  switch (part.type) {
    case 'text-delta':
    case 'reasoning-delta':
    case 'tool-input-delta':
      return part.delta;
    case 'tool-call':
      return sawInputDeltas ? '' : part.toolName + part.input;
    default:
      return '';
  }
}

/**
 * Wraps a model's stream so its leases end exactly once, however the stream ends: the
 * provider governor's hold ends at the first part (the provider has counted the call);
 * the leases are settled at the `finish` part with the reported usage, or, with what was
 * produced so far (the prompt as estimated, the text as counted), at an `error` part, when
 * reading fails, when the reader cancels, or when the call's signal aborts.
 */
export function governStream(
  source: ReadableStream<ModelStreamPart>,
  call: StreamCall,
): ReadableStream<ModelStreamPart> {
  const { gate, toll, reservation } = call;
  const reader = source.getReader();
  let text = '';
  let started = false;
  let sawInputDeltas = false;
  let stopListening = () => {};
  const counted = () => ({
    inputTokens: reservation.promptTokens,
    outputTokens: Math.min(reservation.maxTokens, gate.counter.countText(text, { model: call.modelId })),
  });
  const end = (outcome: 'finish' | 'error' | 'cancel', usage?: ModelUsage, error?: unknown) => {
    if (toll.done) return;
    stopListening();
    const read = readModelUsage(usage, counted());
    if (outcome === 'finish') {
      if (!read.complete)
        gate.logger.debug('a stream finished without full usage: counted', { ...read.usage });
      gate.succeeded(toll, read.usage, call.context);
      return;
    }
    toll.settle(read.usage);
    toll.release();
    if (outcome === 'error') gate.failed(call.context.attempt, error);
  };
  if (call.signal) stopListening = onAbort(call.signal, () => end('cancel'));
  return new ReadableStream<ModelStreamPart>({
    async pull(controller) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (error) {
        end('error', undefined, error);
        controller.error(error);
        return;
      }
      if (next.done) {
        end('cancel'); // ended without a finish part: settled with what it produced
        controller.close();
        return;
      }
      const part = next.value;
      if (!started) toll.endHold();
      started = true;
      if (part.type === 'tool-input-delta') sawInputDeltas = true;
      text += producedText(part, sawInputDeltas);
      if (part.type === 'finish') end('finish', part.usage);
      else if (part.type === 'error') end('error', undefined, part.error);
      controller.enqueue(part);
    },
    cancel(reason) {
      end('cancel');
      return reader.cancel(reason);
    },
  });
}
