/**
 * Multi-agent conversations as a service: a gateway on the embedded simulator runs three
 * agents for two turns, streams the conversation over a WebSocket, and answers with the
 * consensus. Offline: everything listens on 127.0.0.1.
 *
 *   npm run example:conversations
 */
import { pathToFileURL } from 'node:url';
import { silentLogger } from '@tollgate/core';
import { type ConversationResult, type StreamMessage, startGateway } from '@tollgate/gateway';
import WebSocket from 'ws';

const ADMIN_KEY = 'tg-example-admin-key-0001';

export async function main(
  log: (line: string) => void = console.log,
): Promise<{ messages: StreamMessage[]; result: ConversationResult }> {
  const gateway = await startGateway(
    { port: 0, adminKey: ADMIN_KEY, docs: false },
    { logger: silentLogger, simulator: { latency: { ttftMs: 30, perTokenMs: 0, jitter: 0 } } },
  );
  try {
    const headers = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
    // #region stream
    const started = await fetch(`${gateway.url}/stream/example-1`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        message: 'How should a team share one provider quota?',
        num_agents: 3,
        turns: 2,
      }),
    });
    const { websocket_url } = (await started.json()) as { websocket_url: string };
    const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}${websocket_url}`, { headers });
    const messages: StreamMessage[] = [];
    await new Promise<void>((resolve, reject) => {
      socket.on('message', (data) => {
        const m = JSON.parse(String(data)) as StreamMessage;
        messages.push(m);
        if (m.type === 'agent_response') log(`turn ${m.turn} ${m.agent_id}: ${m.content?.slice(0, 60)}...`);
        if (m.type === 'consensus_update')
          log(`turn ${m.turn} consensus (${m.method}, ${m.confidence.toFixed(2)})`);
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    // #endregion stream
    const end = messages.at(-1);
    if (end?.type !== 'completed') throw new Error(`the conversation ended with ${end?.type}`);
    const { usage, cost, duration } = end.result.metadata;
    log(`completed in ${duration.toFixed(2)} s: ${usage.total_tokens} tokens, $${cost.toFixed(6)}`);
    return { messages, result: end.result };
  } finally {
    await gateway.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
