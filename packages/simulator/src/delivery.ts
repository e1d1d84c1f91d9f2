// Delivery of an admitted reply: its latency, the requests in flight and waits on the simulator's clock.
import type { ServerResponse } from 'node:http';
import type { SimulatorContext } from './context.js';
import { slowFaultMs } from './faults.js';

/**
 * How long a reply of `completionTokens` takes: a jittered time to first token, a jittered
 * time per token, and the `slow` fault's delay when it strikes.
 */
export function replyDelayMs(ctx: SimulatorContext, completionTokens: number): number {
  const { ttftMs, perTokenMs } = ctx.latency;
  const delayMs = ctx.jittered(ttftMs) + ctx.jittered(perTokenMs * completionTokens);
  return delayMs + slowFaultMs(ctx);
}

/** Runs `send` counted as one request in flight (the stats keep the most at once). */
export async function inFlight(ctx: SimulatorContext, send: () => Promise<void>): Promise<void> {
  ctx.inFlight++;
  ctx.stats.maxConcurrent = Math.max(ctx.stats.maxConcurrent, ctx.inFlight);
  try {
    await send();
  } finally {
    ctx.inFlight--;
  }
}

/** Waits `ms` on the simulator's clock; false (and a client abort counted) if the client went away. */
export function sleep(ctx: SimulatorContext, res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => {
      ctx.clock.clearTimeout(timer);
      ctx.stats.clientAborts++;
      resolve(false);
    };
    const timer = ctx.clock.setTimeout(() => {
      res.off('close', onClose);
      resolve(!res.destroyed);
    }, ms);
    res.once('close', onClose);
  });
}
