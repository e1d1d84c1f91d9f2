// `startSimulator`: the HTTP server that serves the simulator's routes on 127.0.0.1.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimulatorContext } from './context.js';
import { checkSimulatorOptions, SIMULATOR_DEFAULTS, type SimulatorOptions } from './options.js';
import { anthropicMessagesRoute } from './routes/anthropicMessages.js';
import { geminiGenerateRoute } from './routes/geminiGenerate.js';
import { openAIChatRoute } from './routes/openaiChat.js';
import type { Route } from './routes/Route.js';
import { dispatch } from './routes/router.js';
import { healthRoute, modelsRoute, statsRoute } from './routes/service.js';
import type { SimulatorStats } from './stats.js';

/** A running simulator. */
export interface Simulator {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `url + '/v1'`: what an OpenAI client takes as `baseURL`. */
  readonly baseURL: string;
  readonly port: number;
  /** A copy of the counters. */
  stats(): SimulatorStats;
  /** Zeroes the counters and forgets every key's quota usage. */
  reset(): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** The routes served, first match wins: a new provider protocol adds its route here. */
const ROUTES: readonly Route[] = [
  statsRoute,
  healthRoute,
  modelsRoute,
  openAIChatRoute,
  anthropicMessagesRoute,
  geminiGenerateRoute,
];

/**
 * Starts a provider on 127.0.0.1 that speaks OpenAI's chat completions
 * (`/v1/chat/completions`), Anthropic's Messages API (`/v1/messages`) and Gemini's
 * `generateContent` (`/v1beta/models/{model}:generateContent`), and behaves like a real one under
 * load: strict per-key request and token windows with real 429s and rate-limit headers,
 * deterministic responses (tool calls included), a latency model and fault injection.
 *
 * @throws InvalidArgumentError naming every option out of range.
 * @example
 * const sim = await startSimulator({ quota: { requestsPerWindow: 7, windowMs: 1_000 } });
 * const client = new OpenAI({ baseURL: sim.baseURL, apiKey: 'sk-test', maxRetries: 0 });
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  checkSimulatorOptions(options);
  const ctx = new SimulatorContext(options);
  const server = createServer((req, res) => void dispatch(ctx, ROUTES, req, res));
  server.keepAliveTimeout = 30_000;
  const host = options.host ?? SIMULATOR_DEFAULTS.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host}:${port}`;
  return {
    url,
    baseURL: `${url}/v1`,
    port,
    stats: () => ctx.snapshot(),
    reset: () => ctx.reset(),
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
