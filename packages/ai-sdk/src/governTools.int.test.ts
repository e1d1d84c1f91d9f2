import { ResourceGovernor, ResourceLimitExceededError } from '@tollgate/limits';
import type { Simulator } from '@tollgate/simulator';
import { generateText, stepCountIs, streamText, tool, wrapLanguageModel } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { governTools } from './governTools.js';
import {
  providerGovernor,
  record,
  simulatedModel,
  simulator,
  tokenCounter,
} from './test-support/simulated.js';
import { tollgateMiddleware } from './tollgateMiddleware.js';

const sims: Simulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

const lookup = (runs: string[]) =>
  tool({
    description: 'Looks up a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      runs.push(city);
      return `${city}: sunny`;
    },
  });

describe('governTools with the real AI SDK against the simulator', () => {
  it('enforces a tool-call limit: past it, the execution is refused and the model hears the error', async () => {
    const sim = await simulator({ toolTurns: 4 });
    sims.push(sim);
    const provider = providerGovernor(100, 60_000);
    const agent = new ResourceGovernor({ maxToolCallsPerMinute: 2, rejectOnLimit: true }, { name: 'agent' });
    const { events } = record(agent);
    const model = wrapLanguageModel({
      model: simulatedModel(sim),
      middleware: tollgateMiddleware({ governors: [agent, provider], tokenCounter }),
    });
    const runs: string[] = [];
    const result = await generateText({
      model,
      prompt: 'What is the weather in four cities?',
      tools: governTools({ lookup: lookup(runs) }, agent),
      stopWhen: stepCountIs(5),
      maxRetries: 0,
    });
    const outcomes = result.steps.flatMap((s) =>
      s.content.flatMap((c) => (c.type === 'tool-result' || c.type === 'tool-error' ? [c] : [])),
    );
    expect(outcomes.map((c) => c.type)).toEqual(['tool-result', 'tool-result', 'tool-error', 'tool-error']);
    expect(runs).toHaveLength(2); // the refused executions never ran
    const refused = outcomes[2]!;
    expect(refused.type === 'tool-error' && ResourceLimitExceededError.is(refused.error)).toBe(true);
    expect(result.steps).toHaveLength(5); // four tool turns, then the answer: every model call governed
    expect(events.filter((e) => e.type === 'acquired' && e.cost.toolCalls === 1)).toHaveLength(2);
    expect(events.filter((e) => e.type === 'rejected')).toHaveLength(2);
    agent.dispose();
    provider.dispose();
  });

  it('a tool waiting for the governor is aborted with the call, and a streaming tool holds its lease to its last output', async () => {
    const sim = await simulator();
    sims.push(sim);
    const agent = new ResourceGovernor({ maxToolCallsPerMinute: 1 }, { name: 'agent' });
    const { events } = record(agent);
    const outputs: string[] = [];
    const toolLeaseReleased = () => {
      const acquired = events.find((e) => e.type === 'acquired' && e.cost.toolCalls === 1);
      return events.some(
        (e) => e.type === 'released' && acquired?.type === 'acquired' && e.leaseId === acquired.leaseId,
      );
    };
    const streaming = tool({
      description: 'Reports progress',
      inputSchema: z.object({ city: z.string() }),
      async *execute({ city }) {
        outputs.push(`start ${city}`);
        yield 'working';
        expect(toolLeaseReleased()).toBe(false); // still held between outputs
        yield `${city}: done`;
      },
    });
    const tools = governTools({ streaming }, agent);
    const run = (abortSignal?: AbortSignal) =>
      streamText({
        model: wrapLanguageModel({
          model: simulatedModel(sim),
          middleware: tollgateMiddleware({ governors: [agent], tokenCounter }),
        }),
        prompt: 'Go',
        tools,
        maxRetries: 0,
        ...(abortSignal ? { abortSignal } : {}),
      });
    const first = run();
    const parts = [];
    for await (const part of first.fullStream) parts.push(part);
    const results = parts.flatMap((p) => (p.type === 'tool-result' ? [p] : []));
    expect(results.map((p) => [p.output, p.preliminary ?? false])).toEqual([
      ['working', true],
      [expect.stringMatching(/: done$/), true],
      [expect.stringMatching(/: done$/), false],
    ]);
    expect(events.filter((e) => e.type === 'released')).toHaveLength(2); // the model call and the tool
    expect(toolLeaseReleased()).toBe(true);
    // The one tool call of this minute is used: the next waits in the queue, until its call is aborted.
    const controller = new AbortController();
    const second = run(controller.signal);
    const seen = second.fullStream.getReader();
    for (let r = await seen.read(); !r.done; r = await seen.read()) {
      if (r.value.type === 'tool-call') setTimeout(() => controller.abort(), 20);
    }
    expect(events.filter((e) => e.type === 'aborted' && e.cost.toolCalls === 1)).toHaveLength(1);
    expect(outputs).toHaveLength(1);
    expect(agent.queued).toBe(0);
    agent.dispose();
  });
});
