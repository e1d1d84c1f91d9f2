// The agents of a conversation: model, temperature and personality of each, and their defaults.
import { InvalidArgumentError } from '@tollgate/core';

/** One agent of a conversation, as configured or sent in `POST /chat`'s `agents`. */
export interface AgentProfile {
  /** @default `agent_<index>` */
  readonly agent_id?: string | undefined;
  readonly model: string;
  /** 0 to 2. */
  readonly temperature: number;
  /** A personality named in {@link PERSONALITY_PROMPTS}, or any short description ("a cautious lawyer"). */
  readonly personality: string;
}

/** A profile with its agent id settled. */
export type ResolvedProfile = Required<AgentProfile>;

/** The system prompts of the named personalities. */
export const PERSONALITY_PROMPTS: Readonly<Record<string, string>> = Object.freeze({
  analytical: 'You reason step by step from facts and numbers, and state your answer plainly.',
  creative: 'You look for original angles and unexpected options before settling on an answer.',
  critical: 'You test every claim, look for flaws in the other answers and keep only what holds.',
  pragmatic: 'You favour what works in practice, at a reasonable cost, over what is ideal.',
  concise: 'You answer in as few words as the question allows.',
});

/** Three agents of different temperatures and personalities, on a model the simulator serves. */
export const DEFAULT_AGENT_PROFILES: readonly ResolvedProfile[] = Object.freeze([
  { agent_id: 'agent_0', model: 'gpt-4o-mini', temperature: 0.3, personality: 'analytical' },
  { agent_id: 'agent_1', model: 'gpt-4o-mini', temperature: 0.9, personality: 'creative' },
  { agent_id: 'agent_2', model: 'gpt-4o-mini', temperature: 0.6, personality: 'critical' },
]);

/** The system prompt of a profile: its personality's, then how to take part. */
export function systemPromptOf(profile: AgentProfile): string {
  const persona = PERSONALITY_PROMPTS[profile.personality] ?? `You answer as ${profile.personality} would.`;
  return [
    `You are one of several agents answering the same question together. ${persona}`,
    'Later turns show you what the other agents answered; keep your answer or revise it.',
    'Reply with your answer only.',
  ].join(' ');
}

/**
 * The `count` profiles of a conversation: those given (by the request or the config), cycled
 * when fewer than `count`, each with a distinct `agent_id`.
 * @throws InvalidArgumentError for no profiles or duplicate agent ids.
 */
export function resolveProfiles(profiles: readonly AgentProfile[], count: number): ResolvedProfile[] {
  if (profiles.length === 0) throw new InvalidArgumentError('agents', 'at least one agent', profiles);
  const resolved: ResolvedProfile[] = [];
  for (let i = 0; i < count; i++) {
    const p = profiles[i % profiles.length]!;
    const cycled = i >= profiles.length;
    const id = p.agent_id && !cycled ? p.agent_id : `agent_${i}`;
    resolved.push({ agent_id: id, model: p.model, temperature: p.temperature, personality: p.personality });
  }
  const ids = new Set(resolved.map((p) => p.agent_id));
  if (ids.size !== resolved.length)
    throw new InvalidArgumentError(
      'agents',
      'distinct agent_id values',
      resolved.map((p) => p.agent_id),
    );
  return resolved;
}
