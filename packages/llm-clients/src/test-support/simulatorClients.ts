// Setup shared by the client tests that run a real SDK over HTTP against the simulator.
import { AbortError } from '@tollgate/core';
import { type Simulator, type SimulatorOptions, startSimulator } from '@tollgate/simulator';
import { lastValueFrom } from 'rxjs';
import { afterEach, expect } from 'vitest';
import { ProviderConnectionError } from '../errors.js';
import type { ChatResponse, LLMClient } from '../types.js';

/** Quick replies: 1 ms to the first token, 0.02 ms a token, no jitter. */
export const QUICK_LATENCY = { ttftMs: 1, perTokenMs: 0.02, jitter: 0 } as const;

/**
 * A starter of simulators that accept `key` and reply with {@link QUICK_LATENCY}, with
 * `defaults` and then each call's options over that. Call it at the top of a test file:
 * every simulator it started is closed after each test.
 */
export function useSimulators(
  key: string,
  defaults: SimulatorOptions = {},
): (options?: SimulatorOptions) => Promise<Simulator> {
  const started: Simulator[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
  });
  return async (options = {}) => {
    const s = await startSimulator({ apiKeys: [key], latency: QUICK_LATENCY, ...defaults, ...options });
    started.push(s);
    return s;
  };
}

/** A request of one user message, answered in at most 40 tokens. */
export const user = (content: string) => ({
  messages: [{ role: 'user' as const, content }],
  maxTokens: 40,
});

/** One tool, `lookup({ id: integer })`. */
export const tools = [
  {
    name: 'lookup',
    parameters: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
  },
];

/**
 * Checks that `client` calls `lookup` with an integer `id` when offered {@link tools}, and
 * that the tool's result, carried back, gets an answer that is not another call; returns it.
 */
export async function expectToolRoundTrip(client: LLMClient): Promise<ChatResponse> {
  const call = await client.chat({ ...user('use the tool'), tools });
  expect(call.finishReason).toBe('tool_calls');
  expect(call.toolCalls[0]!.name).toBe('lookup');
  expect(typeof JSON.parse(call.toolCalls[0]!.arguments).id).toBe('number');
  const answer = await client.chat({
    messages: [
      ...user('use the tool').messages,
      { role: 'assistant', content: null, toolCalls: call.toolCalls },
      { role: 'tool', toolCallId: call.toolCalls[0]!.id, content: '{"found":true}' },
    ],
    tools,
    maxTokens: 40,
  });
  expect(answer.finishReason).not.toBe('tool_calls');
  return answer;
}

/** What `call` rejected with; fails the test if it resolved. */
export async function failure(call: Promise<unknown>): Promise<Error> {
  return call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: Error) => error,
  );
}

/** Checks that no error shows a key (the tests' keys all hold `secret-do-not-log` or `wrong-key-999`). */
export function expectNoKeyIn(errors: readonly Error[]): void {
  for (const error of errors) {
    expect(`${error.message} ${JSON.stringify(error)} ${String(error.stack)}`).not.toMatch(
      /secret-do-not-log|wrong-key-999/,
    );
  }
}

/**
 * Checks that `client` (on a simulator that answers slowly) ends a call and a stream aborted
 * after 50 ms with `AbortError`, and that `hasty` (the same with a short `timeoutMs`) ends
 * a call on its own timeout with `ProviderConnectionError`.
 */
export async function expectAbortAndTimeout(client: LLMClient, hasty: LLMClient): Promise<void> {
  const controller = new AbortController();
  const pending = failure(client.chat(user('x'), { signal: controller.signal }));
  setTimeout(() => controller.abort(), 50);
  expect(AbortError.is(await pending)).toBe(true);
  expect(ProviderConnectionError.is(await failure(hasty.chat(user('x'))))).toBe(true);
  const streamAbort = new AbortController();
  const streamed = failure(lastValueFrom(client.stream(user('x'), { signal: streamAbort.signal })));
  setTimeout(() => streamAbort.abort(), 50);
  expect(AbortError.is(await streamed)).toBe(true);
}
