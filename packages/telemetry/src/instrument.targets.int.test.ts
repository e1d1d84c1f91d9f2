import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GEN_AI, TOLLGATE_ATTR } from './conventions.js';
import { instrument } from './instrument.js';
import { inMemoryOtel, total } from './test-support/otel.js';
import { Analyst, simulatedFleet } from './test-support/simulatedFleet.js';

describe('instrument(agent) and instrument(container), on the simulator', () => {
  const otel = inMemoryOtel();
  let run: Awaited<ReturnType<typeof simulatedFleet>>;
  beforeAll(async () => {
    run = await simulatedFleet({ agents: 1, rpm: 50, windowMs: 1_000 });
  });
  afterAll(async () => {
    await run.close();
    await otel.shutdown();
  });

  it('an agent: its task span holds its chat and tool spans; its model and provider name the calls', async () => {
    const agent = run.container.get(Analyst);
    const options = { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider };
    const onAgent = instrument(agent, options);
    const onContainer = instrument(run.container, options);
    const result = await agent.executeTask('What is a window?');
    expect(result.status).toBe('completed');
    const spans = otel.spans();
    const task = spans.find((s) => s.name === 'invoke_agent Analyst');
    expect(task?.attributes[GEN_AI.agentId]).toBe(agent.agentId);
    expect(task?.attributes[TOLLGATE_ATTR.taskStatus]).toBe('completed');
    const children = spans.filter((s) => s.parentSpanContext?.spanId === task?.spanContext().spanId);
    expect(children.map((s) => s.name).sort()).toEqual([
      'chat gpt-4o-mini',
      'chat gpt-4o-mini',
      'execute_tool lookup',
    ]);
    const call = {
      [GEN_AI.providerName]: 'openai',
      [GEN_AI.requestModel]: 'gpt-4o-mini',
      [GEN_AI.tokenType]: 'input',
    };
    expect(total(await otel.points('gen_ai.client.token.usage'), call)).toBe(result.usage.promptTokens);
    // The agent's instrumentation and the container's both watch the provider governor: each counts its calls once.
    const provider = { [TOLLGATE_ATTR.governor]: run.providerGovernor.name };
    expect(total(await otel.points('tollgate.admissions'), provider)).toBe(2 * result.llmCalls);
    expect(onContainer.metricsText()).toContain(
      `tollgate_admissions_total{governor="${run.providerGovernor.name}"} ${result.llmCalls}`,
    );
    expect(onAgent.metricsText()).toContain(`tollgate_admissions_total{governor="${agent.agentId}"} 4`); // slot, 2 calls, 1 tool
    onAgent.dispose();
    onContainer.dispose();
    agent.dispose();
  });
});
