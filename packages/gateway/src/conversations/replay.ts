// The stream of a conversation rebuilt from the database, for watchers of one no longer in memory.
import type { ConversationDetail } from './ConversationStore.js';
import type { StreamMessage } from './messages.js';
import { stripDetail } from './runConversation.js';

/**
 * The messages a watcher would have seen, from what was stored: `started`, every
 * `agent_response` in order, then `completed` or `failed` (or nothing more while it is still
 * running on another gateway). Per-turn `consensus_update`s are not stored and not replayed.
 */
export function replayOf(d: ConversationDetail): StreamMessage[] {
  const out: StreamMessage[] = [];
  const stamp = (timestamp: string) => ({
    conversation_id: d.conversation_id,
    seq: out.length + 1,
    timestamp,
  });
  out.push({
    ...stamp(d.created_at),
    type: 'started',
    message: d.message,
    agents: d.agents,
    turns: d.metadata.turns,
  });
  for (const m of d.messages)
    out.push({
      ...stamp(m.created_at),
      type: 'agent_response',
      agent_id: m.agent_id,
      model: m.model,
      temperature: m.temperature,
      turn: m.turn,
      content: m.content,
      status: m.status,
      tokens: m.tokens,
      cost: m.cost,
      duration_ms: m.duration_ms,
      ...(m.error ? { error: m.error } : {}),
    });
  const end = d.finished_at ?? d.created_at;
  const result = stripDetail(d);
  if (d.metadata.status === 'completed') out.push({ ...stamp(end), type: 'completed', result });
  else if (d.metadata.status === 'failed')
    out.push({
      ...stamp(end),
      type: 'failed',
      error: d.metadata.error ?? { code: 'failed', message: 'The conversation failed.' },
      result,
    });
  return out;
}
