// Audit: one onAbort callback that throws must not keep the abort from the others on the same signal.
import { afterEach, describe, expect, it } from 'vitest';
import { linkAbort, onAbort } from './abort.js';

const saved: NodeJS.UncaughtExceptionListener[] = [];
const caught: unknown[] = [];
const capture = (error: unknown) => {
  caught.push(error);
};

afterEach(() => {
  process.off('uncaughtException', capture);
  for (const listener of saved.splice(0)) process.on('uncaughtException', listener);
});

describe('onAbort fan-out (audit)', () => {
  it('a throwing callback does not lose the abort for the callbacks and scopes after it', async () => {
    // Node reports a listener's throw as an uncaught exception on the next tick: catch it here.
    saved.push(...process.listeners('uncaughtException'));
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', capture);
    const controller = new AbortController();
    const heard: unknown[] = [];
    onAbort(controller.signal, () => {
      throw new Error('a caller callback that throws');
    });
    onAbort(controller.signal, (reason) => heard.push(reason));
    const child = linkAbort(controller.signal);
    controller.abort('stop');
    await new Promise((resolve) => setImmediate(resolve));
    expect(caught).toHaveLength(1);
    // With one listener per signal, the first throw ends the fan-out: the rest never hear it.
    expect(heard).toEqual(['stop']);
    expect(child.signal.aborted).toBe(true);
  });
});
