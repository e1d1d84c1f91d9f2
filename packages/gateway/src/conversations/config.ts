// Settings of the conversation service (`conversations` in the gateway config) and their defaults.
import {
  booleanSetting,
  integerIn,
  objectSetting,
  sectionSetting,
  shown,
  stringSetting,
} from '../config/settings.js';
import { GatewayConfigError } from '../errors.js';
import type { AgentProfile } from './profiles.js';

/** The `conversations` section of the gateway config. */
export interface ConversationsConfig {
  /** The agents of a conversation whose request names none (cycled up to its `num_agents`). @default `DEFAULT_AGENT_PROFILES` */
  readonly agents?: readonly AgentProfile[] | undefined;
  /** Agents of a conversation that asks for no number. @default 3 */
  readonly numAgents?: number | undefined;
  /** Turns of a conversation that asks for no number. @default 2 */
  readonly turns?: number | undefined;
  /** The most agents a request may ask for. @default 8 */
  readonly maxAgents?: number | undefined;
  /** The most turns a request may ask for. @default 6 */
  readonly maxTurns?: number | undefined;
  /** Output tokens of each agent's answer. @default 256 */
  readonly maxTokens?: number | undefined;
  /** Stream answers from the provider and send each piece to watchers as `agent_token`. @default true */
  readonly streamTokens?: boolean | undefined;
  /** How long an ended conversation's stream stays replayable from memory, ms. @default 600_000 */
  readonly replayMs?: number | undefined;
  /** A `running` conversation nothing wrote to for this long is ended `failed` at start, ms. @default 900_000 */
  readonly staleMs?: number | undefined;
}

/** Defaults of {@link ConversationsConfig} (the agents' are `DEFAULT_AGENT_PROFILES`). */
export const CONVERSATION_DEFAULTS = {
  numAgents: 3,
  turns: 2,
  maxAgents: 8,
  maxTurns: 6,
  maxTokens: 256,
  streamTokens: true,
  replayMs: 600_000,
  staleMs: 900_000,
} as const;

const MAX_MS = 2 ** 31 - 1;

/**
 * Checks the `conversations` section of a config (`name` prefixes the fields in errors).
 * @throws GatewayConfigError naming the field at fault.
 */
export function checkConversationsConfig(name: string, value: unknown): ConversationsConfig {
  const v = sectionSetting(name, value, [
    'agents',
    'numAgents',
    'turns',
    'maxAgents',
    'maxTurns',
    'maxTokens',
    'streamTokens',
    'replayMs',
    'staleMs',
  ]).optional;
  const config = {
    agents: v('agents', checkAgents),
    numAgents: v('numAgents', integerIn(1, 64)),
    turns: v('turns', integerIn(1, 64)),
    maxAgents: v('maxAgents', integerIn(1, 64)),
    maxTurns: v('maxTurns', integerIn(1, 64)),
    maxTokens: v('maxTokens', integerIn(1, 1_000_000)),
    streamTokens: v('streamTokens', booleanSetting),
    replayMs: v('replayMs', integerIn(1, MAX_MS)),
    staleMs: v('staleMs', integerIn(1, MAX_MS)),
  };
  const numAgents = config.numAgents ?? CONVERSATION_DEFAULTS.numAgents;
  if (numAgents > (config.maxAgents ?? CONVERSATION_DEFAULTS.maxAgents))
    throw new GatewayConfigError(`${name}.numAgents`, 'at most maxAgents', String(numAgents));
  const turns = config.turns ?? CONVERSATION_DEFAULTS.turns;
  if (turns > (config.maxTurns ?? CONVERSATION_DEFAULTS.maxTurns))
    throw new GatewayConfigError(`${name}.turns`, 'at most maxTurns', String(turns));
  return config;
}

function checkAgents(name: string, value: unknown): AgentProfile[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new GatewayConfigError(name, 'a non-empty array of agents', shown(value));
  return value.map((entry, i) => {
    const at = `${name}[${i}]`;
    const o = objectSetting(at, entry, ['agent_id', 'model', 'temperature', 'personality']);
    const temperature = o.temperature;
    if (typeof temperature !== 'number' || !(temperature >= 0 && temperature <= 2))
      throw new GatewayConfigError(`${at}.temperature`, 'a number from 0 to 2', shown(temperature));
    return {
      ...(o.agent_id === undefined ? {} : { agent_id: stringSetting(`${at}.agent_id`, o.agent_id) }),
      model: stringSetting(`${at}.model`, o.model),
      temperature,
      personality: stringSetting(`${at}.personality`, o.personality),
    };
  });
}
