#!/usr/bin/env node
// tollgate-simulator: starts the simulator from command-line flags.
import { parseArgs } from 'node:util';
import { startSimulator } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8787' },
    rpm: { type: 'string' },
    tpm: { type: 'string' },
    'window-ms': { type: 'string', default: '60000' },
    'sub-windows': { type: 'string', default: '1' },
    'request-budget': { type: 'string' },
    'max-body-bytes': { type: 'string' },
    'api-key': { type: 'string', multiple: true },
    seed: { type: 'string', default: '42' },
    'ttft-ms': { type: 'string' },
    'per-token-ms': { type: 'string' },
    jitter: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`tollgate-simulator: an OpenAI-compatible provider on 127.0.0.1 with strict quotas

  --port N          port (default 8787; 0 picks a free one)
  --rpm N           requests per window, per API key
  --tpm N           tokens per window (prompt + max output tokens, charged at admission)
  --window-ms N     window length (default 60000)
  --sub-windows N   also enforce the quota pro rata over N sub-windows
  --request-budget N  requests per key in all; then 429 insufficient_quota
  --max-body-bytes N  largest request body (default 1048576); larger ones get 413
  --api-key K       accepted key (repeatable; default: any non-empty key)
  --seed N          seed of responses, latency and faults
  --ttft-ms N       time to first token, ms
  --per-token-ms N  time per output token, ms
  --jitter F        latency jitter, a fraction (0.2: +/-20%)`);
  process.exit(0);
}

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const sim = await startSimulator({
  port: Number(values.port),
  apiKeys: values['api-key'] ?? [],
  seed: Number(values.seed),
  quota: {
    requestsPerWindow: num(values.rpm),
    tokensPerWindow: num(values.tpm),
    windowMs: Number(values['window-ms']),
    subWindows: Number(values['sub-windows']),
    requestBudget: num(values['request-budget']),
  },
  maxBodyBytes: num(values['max-body-bytes']),
  latency: {
    ...(values['ttft-ms'] ? { ttftMs: Number(values['ttft-ms']) } : {}),
    ...(values['per-token-ms'] ? { perTokenMs: Number(values['per-token-ms']) } : {}),
    ...(values.jitter ? { jitter: Number(values.jitter) } : {}),
  },
});
console.log(`tollgate-simulator listening on ${sim.baseURL} (stats: ${sim.url}/stats)`);
const stop = () => void sim.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
