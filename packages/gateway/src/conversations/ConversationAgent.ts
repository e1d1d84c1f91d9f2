// One agent of a conversation: a HybridAgent whose prompt carries the others' previous answers.
import { type AgentDeps, HybridAgent, type NormalizedTask, type TaskContext } from '@tollgate/agents';
import type { ChatMessage } from '@tollgate/llm-clients';
import { type ResolvedProfile, systemPromptOf } from './profiles.js';

/** What every agent of one conversation said in the turn before, by agent id. */
export interface Transcript {
  /** The turn whose answers `previous` holds (0 before the first). */
  turn: number;
  previous: Map<string, string>;
}

/**
 * An agent with one profile (model, temperature, personality). It answers in one model
 * turn, no tools; from the second turn on its prompt also shows what each other agent
 * answered in the turn before, read from the conversation's shared {@link Transcript}.
 */
export class ConversationAgent extends HybridAgent<string> {
  override readonly systemPrompt: string;
  override readonly model: string;
  override readonly temperature: number;
  override readonly maxTokens: number;
  override readonly maxIterations = 1;
  readonly profile: ResolvedProfile;
  readonly #transcript: Transcript;

  constructor(deps: AgentDeps, profile: ResolvedProfile, transcript: Transcript, maxTokens: number) {
    super({ ...deps, agentId: profile.agent_id, name: profile.agent_id });
    this.profile = profile;
    this.systemPrompt = systemPromptOf(profile);
    this.model = profile.model;
    this.temperature = profile.temperature;
    this.maxTokens = maxTokens;
    this.#transcript = transcript;
  }

  protected override buildMessages(task: NormalizedTask, _context: TaskContext): ChatMessage[] {
    const messages: ChatMessage[] = [
      { role: 'system', content: this.systemPrompt },
      { role: 'user', content: task.input },
    ];
    const others = [...this.#transcript.previous].filter(([id]) => id !== this.agentId);
    if (others.length > 0) {
      const own = this.#transcript.previous.get(this.agentId);
      if (own !== undefined) messages.push({ role: 'assistant', content: own });
      messages.push({
        role: 'user',
        content: [
          `In turn ${this.#transcript.turn} the other agents answered:`,
          ...others.map(([id, answer]) => `- ${id}: ${answer}`),
          'Give your answer now, revised if they convinced you.',
        ].join('\n'),
      });
    }
    return messages;
  }
}
