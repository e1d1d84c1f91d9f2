/**
 * A research agent with two tools: a HybridAgent subclass in a dozen lines, wired by the
 * container with per-agent and provider limits. Runs offline on the ScriptedClient by
 * default, against the embedded simulator with --simulator, and against a real endpoint
 * when OPENAI_API_KEY is set (OPENAI_BASE_URL and OPENAI_MODEL are read too).
 *
 *   npm run example:agent
 *   npm run example:agent -- --simulator
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  bindAgent,
  createTollgateContainer,
  defineTool,
  HybridAgent,
  type TaskResult,
} from '@tollgate/agents';
import { TiktokenCounter } from '@tollgate/core';
import { type ChatRequest, type LLMClient, OpenAIClient, ScriptedClient } from '@tollgate/llm-clients';
import { startSimulator } from '@tollgate/simulator';
import { z } from 'zod';

const NOTES: Record<string, string> = {
  n1: 'A token bucket refills continuously and allows bursts up to its capacity.',
  n2: 'A sliding window never admits more than N calls in any window of W.',
  n3: 'Providers charge prompt tokens plus max output tokens when a request is admitted.',
};

// #region agent
const search = defineTool({
  name: 'search_notes',
  description: 'Finds the ids of notes that mention a word',
  parameters: z.object({ word: z.string().min(1) }),
  execute: ({ word }) =>
    Object.keys(NOTES).filter((id) => NOTES[id]!.toLowerCase().includes(word.toLowerCase())),
});

const read = defineTool({
  name: 'read_note',
  description: 'Returns the text of one note',
  parameters: z.object({ id: z.string() }),
  execute: ({ id }) => NOTES[id] ?? `no note ${id}`,
});

export class ResearchAgent extends HybridAgent {
  readonly systemPrompt = 'You research questions in the notes: search, read, then answer in one sentence.';
  override readonly tools = [search, read];
  override readonly maxIterations = 5;
  override readonly maxTokens = 200;
}
// #endregion agent

/** An offline stand-in for the model: search for the question's last word, read the first hit, answer. */
function scriptedModel(request: ChatRequest) {
  const last = request.messages.at(-1)!;
  const question = request.messages.find((m) => m.role === 'user')?.content ?? '';
  if (last.role === 'user') {
    const word = question.replace(/[?.!]/g, '').split(' ').at(-1) ?? question;
    return { toolCalls: [{ name: 'search_notes', arguments: { word } }] };
  }
  const previous = request.messages.at(-2);
  const calledSearch = previous?.role === 'assistant' && previous.toolCalls?.[0]?.name === 'search_notes';
  if (last.role === 'tool' && calledSearch) {
    const ids = JSON.parse(last.content) as string[];
    if (ids.length > 0) return { toolCalls: [{ name: 'read_note', arguments: { id: ids[0] } }] };
    return { content: 'The notes say nothing about that.' };
  }
  return { content: `According to the notes: ${last.role === 'tool' ? last.content : ''}` };
}

export interface ResearchOptions {
  readonly simulator?: boolean;
  readonly questions?: readonly string[];
  readonly log?: (line: string) => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export async function main(options: ResearchOptions = {}): Promise<TaskResult[]> {
  const { log = console.log, env = process.env } = options;
  const questions = options.questions ?? ['What is a bucket?', 'How do providers charge tokens?'];
  const tokenCounter = new TiktokenCounter();
  const real = Boolean(env.OPENAI_API_KEY);
  const sim = !real && options.simulator ? await startSimulator({ tokenCounter }) : undefined;
  const provider: LLMClient = real
    ? new OpenAIClient({ model: env.OPENAI_MODEL ?? 'gpt-4o-mini', baseURL: env.OPENAI_BASE_URL })
    : sim
      ? new OpenAIClient({ model: 'gpt-4o-mini', baseURL: sim.baseURL, apiKey: 'sk-simulator' })
      : new ScriptedClient({ script: scriptedModel, tokenCounter });
  log(`provider: ${real ? 'real endpoint' : sim ? `simulator at ${sim.url}` : 'scripted, offline'}`);

  // #region container
  const container = createTollgateContainer({
    provider,
    tokenCounter,
    limits: { maxConcurrentTasks: 2, maxToolCallsPerMinute: 20, taskTimeoutSeconds: 60 },
    providerLimits: { maxRequestsPerMinute: 60, maxTokensPerMinute: 40_000 },
    env, // TOLLGATE_* and TOLLGATE_PROVIDER_* override per deployment
  });
  bindAgent(container, ResearchAgent);
  const agent = container.get(ResearchAgent);
  agent.events$.subscribe((e) => {
    if (e.type === 'tool-call') log(`  ${e.taskId}: ${e.name} ${e.ok ? 'ok' : `failed: ${e.error}`}`);
  });
  // #endregion container

  try {
    const results = await Promise.all(questions.map((q) => agent.executeTask(q)));
    for (const r of results) {
      log(`${r.taskId} ${r.status} in ${Math.round(r.durationMs)} ms: ${r.output ?? r.error?.message}`);
      log(
        `  ${r.llmCalls} LLM calls, ${r.toolCalls} tool calls, ${r.usage.totalTokens} tokens, $${r.cost.toFixed(6)}`,
      );
    }
    return results;
  } finally {
    agent.dispose();
    await sim?.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { simulator: { type: 'boolean', default: false } } });
  await main({ simulator: values.simulator });
}
