// A small app as a user writes it from the README, compiled under strict nodenext settings
// against the packed packages and run against the simulator on 127.0.0.1.
import { bindAgent, createTollgateContainer, defineTool, HybridAgent } from '@tollgate/agents';
import { InvalidArgumentError } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { openai } from '@tollgate/llm-clients';
import { startSimulator } from '@tollgate/simulator';
import { z } from 'zod';

const notes = ['The token bucket refills each minute.', 'Leases are settled with the real usage.'];

const search = defineTool({
  name: 'search',
  description: 'Searches the notes',
  parameters: z.object({ query: z.string() }),
  execute: ({ query }) => notes.filter((n) => n.includes(query)),
});

class Researcher extends HybridAgent {
  readonly systemPrompt = 'Answer from the notes, using the search tool.';
  override readonly tools = [search];
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`consumer app: ${what}`);
}

const sim = await startSimulator({ host: '127.0.0.1', seed: 7 });
try {
  const container = createTollgateContainer({
    // apiKey and timeoutMs may be undefined here: exactOptionalPropertyTypes must allow it.
    provider: openai({
      model: 'gpt-4o-mini',
      baseURL: sim.baseURL,
      apiKey: process.env.CONSUMER_API_KEY ?? 'sk-simulator',
      timeoutMs: process.env.CONSUMER_TIMEOUT_MS ? Number(process.env.CONSUMER_TIMEOUT_MS) : undefined,
    }),
    limits: { maxConcurrentTasks: 2, maxToolCallsPerMinute: 30 },
    providerLimits: { maxRequestsPerMinute: 500, maxTokensPerMinute: 200_000 },
    env: {},
  });
  const agent = bindAgent(container, Researcher).get(Researcher);
  const result = await agent.executeTask('What resets each minute?');
  agent.dispose();
  check(result.status === 'completed', `task ${result.status}: ${result.error?.message}`);
  check(result.usage.totalTokens > 0 && result.llmCalls > 0, 'no usage recorded');

  const governor = new ResourceGovernor({ maxConcurrentTasks: 1, maxRequestsPerMinute: 60 });
  await governor.runTask(async (signal) => {
    const lease = await governor.acquire({ requests: 1, tokens: 100 }, { signal });
    lease.settle({ tokens: 80 });
  });
  governor.dispose();

  let keyError: unknown;
  const saved = process.env.OPENAI_API_KEY;
  delete process.env.OPENAI_API_KEY;
  try {
    openai({ model: 'gpt-4o-mini' });
  } catch (error) {
    keyError = error;
  }
  if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
  check(InvalidArgumentError.is(keyError), 'openai() without a key did not throw InvalidArgumentError');

  console.log(
    `consumer app on node ${process.version}: task ${result.status}, ${result.llmCalls} calls, ${result.usage.totalTokens} tokens`,
  );
} finally {
  await sim.close();
}
