// AgentFleet's options: their checks, and the fleet governor's limits they describe.
import { checkOptions, InvalidArgumentError, oneOf, optionRules, rule } from '@tollgate/core';
import type { ResourceLimits } from '@tollgate/limits';
import type { AgentFleetOptions } from './types.js';

const isObject = (v: unknown) => typeof v === 'object' && v !== null;

/** @throws InvalidArgumentError for a missing `createAgent`, or an option of the wrong type or out of range. */
export function checkFleetOptions(options: AgentFleetOptions): void {
  if (typeof options?.createAgent !== 'function')
    throw new InvalidArgumentError(
      'AgentFleet.createAgent',
      'a function returning an agent for a task',
      options?.createAgent,
    );
  checkOptions('AgentFleet', options, {
    startsPerMinute: optionRules.positive,
    startAlgorithm: oneOf('sliding-window', 'token-bucket'),
    maxConcurrentAgents: optionRules.positiveInt,
    taskTimeoutMs: optionRules.positive,
    timeScale: optionRules.positive,
    name: optionRules.string,
    model: optionRules.string,
    budget: rule('an object', isObject),
    estimate: rule('an object', isObject),
    governorFactory: optionRules.function,
  });
  checkOptions('AgentFleet.budget', options.budget, {
    maxTokens: optionRules.positive,
    maxCost: optionRules.positive,
    warnAt: optionRules.fraction,
  });
  checkOptions('AgentFleet.estimate', options.estimate, {
    promptTokens: optionRules.nonNegative,
    completionTokens: optionRules.nonNegative,
  });
}

/**
 * Layer 1's limits: agents running at once as `maxConcurrentTasks`, starts per minute as
 * the `agentStarts` rate, and no wait timeout (a task waits for its start slot as long as
 * the run lasts).
 */
export function fleetLimits(options: AgentFleetOptions): ResourceLimits {
  const { maxConcurrentAgents, startsPerMinute } = options;
  return {
    ...(maxConcurrentAgents === undefined ? {} : { maxConcurrentTasks: maxConcurrentAgents }),
    rates:
      startsPerMinute === undefined
        ? []
        : [
            {
              name: 'agentStartsPerMinute',
              resource: 'agentStarts',
              limit: startsPerMinute,
              windowMs: 60_000,
              algorithm: options.startAlgorithm ?? 'sliding-window',
            },
          ],
    timeScale: options.timeScale ?? 1,
    resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
  };
}
