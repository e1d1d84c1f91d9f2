#!/usr/bin/env node
// tollgate-gateway: starts the gateway from flags, env and GATEWAY_CONFIG; stops cleanly on SIGINT/SIGTERM.
import { loadGatewayConfig } from './config/loadGatewayConfig.js';
import { GatewayConfigError } from './errors.js';
import { startGateway } from './Gateway.js';

const HELP = `tollgate-gateway: an OpenAI-compatible gateway that governs every request before forwarding it

  --port N               GATEWAY_PORT       port (default 8787; 0 picks a free one)
  --host H               GATEWAY_HOST       address to listen on (default 127.0.0.1)
  --config FILE          GATEWAY_CONFIG     JSON or YAML: keys, permissions, limits, upstream, jwt, cors...
  --upstream-base-url U  UPSTREAM_BASE_URL  an OpenAI-compatible provider (default: an embedded simulator)
                         UPSTREAM_API_KEY   the provider key
  --redis-url U          REDIS_URL          share quotas with every replica on this Redis
  --database-url U       DATABASE_URL       a PostgreSQL server (default: embedded PGlite)
  --data-dir DIR         GATEWAY_DATA_DIR   where PGlite keeps its files (default: in memory)
                         GATEWAY_ADMIN_KEY  an admin key to create at start

Docs at /docs once started.`;

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(HELP);
    return;
  }
  const config = loadGatewayConfig({ argv: process.argv.slice(2) });
  const gateway = await startGateway(config);
  console.log(`tollgate gateway on ${gateway.baseURL} (docs: ${gateway.url}/docs)`);
  if (gateway.adminKeyFile) console.log(`admin key written to ${gateway.adminKeyFile}`);
  const stop = () => {
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(
    GatewayConfigError.is(error)
      ? error.message
      : `tollgate-gateway failed to start: ${(error as Error).message}`,
  );
  process.exit(1);
});
