import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FleetEvent, RunReport } from '@tollgate/agents';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMITTED_EVENT, GEN_AI, TOLLGATE_ATTR } from './conventions.js';
import { instrument, type Telemetry } from './instrument.js';
import { prometheusHandler } from './prometheus/prometheusHandler.js';
import { hrMs, inMemoryOtel, total } from './test-support/otel.js';
import { simulatedFleet } from './test-support/simulatedFleet.js';

describe('a fleet on the simulator, instrumented', () => {
  const otel = inMemoryOtel();
  let run: Awaited<ReturnType<typeof simulatedFleet>>;
  let telemetry: Telemetry;
  let report: RunReport;
  const events: FleetEvent[] = [];

  beforeAll(async () => {
    run = await simulatedFleet({ agents: 6, rpm: 8, windowMs: 400 });
    telemetry = instrument(run.fleet, {
      meterProvider: otel.meterProvider,
      tracerProvider: otel.tracerProvider,
      provider: 'openai',
    });
    run.fleet.events$.subscribe((e) => events.push(e));
    report = await run.fleet.run(run.tasks);
    // A whole window later the quota is back in full: the limit gauges hold still to be read.
    await new Promise((r) => setTimeout(r, 450));
  }, 60_000);

  afterAll(async () => {
    telemetry.dispose();
    await run.close();
    await otel.shutdown();
  });

  const provider = () => run.providerGovernor.name;

  it('runs cleanly, so every call is one admission at the provider governor', () => {
    expect(report.totals.succeeded).toBe(6);
    expect(report.totals.rateLimited).toBe(0);
    expect(report.totals.llmCalls).toBe(12); // one tool turn and an answer per task
  });

  it('token usage histograms sum to the report totals, one value per call and type', async () => {
    const points = await otel.points('gen_ai.client.token.usage');
    const input = { [GEN_AI.tokenType]: 'input', [GEN_AI.requestModel]: run.model };
    const output = { [GEN_AI.tokenType]: 'output', [GEN_AI.providerName]: 'openai' };
    expect(total(points, input)).toBe(report.totals.promptTokens);
    expect(total(points, output)).toBe(report.totals.completionTokens);
    expect(total(points, input, 'count')).toBe(report.totals.llmCalls);
    expect(total(points, { [GEN_AI.operationName]: 'chat' }, 'count')).toBe(2 * report.totals.llmCalls);
  });

  it('admissions and waits at the provider governor equal the calls; its limit gauges match its status', async () => {
    const governor = { [TOLLGATE_ATTR.governor]: provider() };
    expect(total(await otel.points('tollgate.admissions'), governor)).toBe(report.totals.llmCalls);
    expect(total(await otel.points('tollgate.wait.duration'), governor, 'count')).toBe(
      report.totals.llmCalls,
    );
    expect(total(await otel.points('gen_ai.client.operation.duration'), {}, 'count')).toBe(
      report.totals.llmCalls,
    );
    const status = run.providerGovernor.checkResourceAvailability();
    const limit = { ...governor, [TOLLGATE_ATTR.limit]: 'requestsPerMinute' };
    expect(total(await otel.points('tollgate.limit.max'), limit)).toBe(8);
    expect(status.remaining.requestsPerMinute).toBe(8);
    expect(total(await otel.points('tollgate.limit.remaining'), limit)).toBe(8);
    expect(total(await otel.points('tollgate.limit.utilization'), limit)).toBe(0);
    expect(total(await otel.points('tollgate.queue.depth'), governor)).toBe(0);
  });

  it('the reservation error is the estimate minus the tokens used, per call', async () => {
    let expected = 0;
    for (const e of events)
      if (e.type === 'agent' && e.event.type === 'client' && e.event.event.type === 'call')
        expected += e.event.event.estimateTokens - e.event.event.usage.totalTokens;
    const points = await otel.points('tollgate.reservation.error');
    expect(total(points, {}, 'count')).toBe(report.totals.llmCalls);
    expect(total(points)).toBe(expected);
    expect(expected).toBeGreaterThan(0); // max_tokens 40 reserved, fewer used
  });

  it('spans: invoke_agent per task, chat per call under its task with its admissions, execute_tool per tool call', () => {
    const spans = otel.spans();
    const tasks = spans.filter((s) => s.attributes[GEN_AI.operationName] === 'invoke_agent');
    const chats = spans.filter((s) => s.attributes[GEN_AI.operationName] === 'chat');
    const tools = spans.filter((s) => s.attributes[GEN_AI.operationName] === 'execute_tool');
    expect(tasks.map((s) => s.name)).toEqual(Array(6).fill('invoke_agent Analyst'));
    expect(chats).toHaveLength(report.totals.llmCalls);
    expect(tools).toHaveLength(report.totals.toolCalls);
    expect(tools.every((s) => s.name === 'execute_tool lookup')).toBe(true);
    const taskIds = new Set(tasks.map((s) => s.spanContext().spanId));
    for (const span of [...chats, ...tools])
      expect(taskIds.has(span.parentSpanContext?.spanId ?? '')).toBe(true);
    const sum = (key: string) => chats.reduce((n, s) => n + Number(s.attributes[key]), 0);
    expect(sum(GEN_AI.inputTokens)).toBe(report.totals.promptTokens);
    expect(sum(GEN_AI.outputTokens)).toBe(report.totals.completionTokens);
    for (const chat of chats) {
      expect(chat.name).toBe(`chat ${run.model}`);
      expect(chat.attributes[TOLLGATE_ATTR.attempt]).toBe(1);
      const admitted = chat.events.filter((e) => e.name === ADMITTED_EVENT);
      expect(admitted.map((e) => e.attributes?.[TOLLGATE_ATTR.governor])).toContain(provider());
      expect(hrMs(chat.startTime)).toBeLessThanOrEqual(hrMs(chat.endTime));
    }
    const usage = tasks.reduce((n, s) => n + Number(s.attributes[GEN_AI.inputTokens]), 0);
    expect(usage).toBe(report.totals.promptTokens);
  });

  it('/metrics serves the same numbers in the Prometheus text format, which a parser reads', async () => {
    const server = createServer(prometheusHandler(telemetry));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      const families = parsePrometheusTextFormat(text); // throws on a line that is not the format
      const family = (name: string) => families.find((f) => f.name === name) as ParsedFamily;
      const admissions = family('tollgate_admissions_total');
      expect(admissions.type).toBe('COUNTER');
      const atProvider = admissions.metrics.find((m) => m.labels?.governor === provider());
      expect(Number(atProvider?.value)).toBe(report.totals.llmCalls);
      expect(family('gen_ai_client_token_usage').type).toBe('HISTOGRAM');
      // The parser drops a labelled histogram's labels, so its series are read from the text.
      const sample = (suffix: string) =>
        Number(
          text.match(
            new RegExp(
              `^gen_ai_client_token_usage_${suffix}\\{[^}]*gen_ai_token_type="input"[^}]*\\} (\\S+)$`,
              'm',
            ),
          )?.[1],
        );
      expect(sample('sum')).toBe(report.totals.promptTokens);
      expect(sample('count')).toBe(report.totals.llmCalls);
      const remaining = family('tollgate_limit_remaining').metrics.find(
        (m) => m.labels?.governor === provider() && m.labels?.limit === 'requestsPerMinute',
      );
      expect(Number(remaining?.value)).toBe(
        run.providerGovernor.checkResourceAvailability().remaining.requestsPerMinute,
      );
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
