/**
 * A fleet's metrics and spans: OpenTelemetry (the SDK here keeps them in memory; yours would
 * export them to a collector) and Prometheus at /metrics, against the embedded simulator.
 *
 *   npm run example:telemetry
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { AgentFleet, bindAgent, createTollgateContainer, defineTool, HybridAgent } from '@tollgate/agents';
import { TOKENS } from '@tollgate/core';
import type { ResourceGovernor } from '@tollgate/limits';
import { OpenAIClient } from '@tollgate/llm-clients';
import { startSimulator } from '@tollgate/simulator';
import { instrument, prometheusHandler } from '@tollgate/telemetry';
import { z } from 'zod';

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks up a topic in the notes',
  parameters: z.object({ topic: z.string() }),
  execute: ({ topic }) => `Notes on ${topic}: quotas are shared.`,
});

class Analyst extends HybridAgent {
  readonly systemPrompt = 'Look the topic up with the tool, then answer in one line.';
  override readonly tools = [lookup];
  override readonly maxTokens = 40;
}

export interface TelemetryExampleResult {
  readonly calls: number;
  readonly spans: readonly string[];
  /** The /metrics lines shown. */
  readonly metrics: readonly string[];
}

export async function main(
  options: { readonly agents?: number; readonly log?: (line: string) => void } = {},
): Promise<TelemetryExampleResult> {
  const { agents = 4, log = console.log } = options;
  const sim = await startSimulator({ quota: { requestsPerWindow: 6, windowMs: 500 }, toolTurns: 1 });
  const container = createTollgateContainer({
    provider: new OpenAIClient({ model: 'gpt-4o-mini', baseURL: sim.baseURL, apiKey: 'sk-example' }),
    providerLimits: { maxRequestsPerMinute: 6, algorithm: 'sliding-window', timeScale: 120 },
  });
  bindAgent(container, Analyst);
  const providerGovernor = container.get<ResourceGovernor>(TOKENS.ProviderGovernor);
  const fleet = new AgentFleet({
    createAgent: () => container.get(Analyst),
    providerGovernor,
    model: 'gpt-4o-mini',
  });

  // #region instrument
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 })],
  });
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const telemetry = instrument(fleet, { meterProvider, tracerProvider, provider: 'openai' });
  const metricsServer = createServer(prometheusHandler(telemetry)).listen(0, '127.0.0.1');
  // #endregion instrument

  const tasks = Array.from({ length: agents }, (_, i) => ({ id: `t${i + 1}`, input: `Topic ${i + 1}` }));
  const report = await fleet.run(tasks);
  const { port } = metricsServer.address() as AddressInfo;
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const metrics = text
    .split('\n')
    .filter((l) =>
      /^(tollgate_admissions_total|gen_ai_client_token_usage_sum|tollgate_limit_remaining)/.test(l),
    );
  log(`${report.totals.llmCalls} calls; from http://127.0.0.1:${port}/metrics:`);
  for (const line of metrics) log(`  ${line}`);
  const spans = spanExporter.getFinishedSpans().map((s) => s.name);
  log(`spans: ${[...new Set(spans)].join(', ')}`);
  telemetry.dispose();
  metricsServer.close();
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
  fleet.dispose();
  providerGovernor.dispose();
  await sim.close();
  return { calls: report.totals.llmCalls, spans, metrics };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
