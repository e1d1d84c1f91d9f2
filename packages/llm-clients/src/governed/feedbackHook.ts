// Rate-limit header feedback as a hook of the retry loop: a provider's remaining counts lower our view.
import type { Governor } from '@tollgate/limits';
import type { RateLimitInfo } from '../types.js';
import type { ClientContext } from './context.js';
import type { AttemptHook } from './hooks.js';
import type { FeedbackResource } from './options.js';

/** Which remaining count of a provider's headers speaks for which governor resource. */
export const FEEDBACK_RESOURCES: ReadonlyArray<{
  readonly resource: FeedbackResource;
  readonly remaining: keyof RateLimitInfo;
}> = [
  { resource: 'requests', remaining: 'remainingRequests' },
  { resource: 'tokens', remaining: 'remainingTokens' },
  { resource: 'inputTokens', remaining: 'remainingInputTokens' },
  { resource: 'outputTokens', remaining: 'remainingOutputTokens' },
];

/**
 * Takes the provider governor's remaining counts when a call is sent, and lowers them by
 * what the provider's headers reveal that we did not see: its remaining count below ours
 * at send time means someone else used the key. Never raises them. A remaining count
 * below 0 or not finite says nothing true: it is ignored (and logged).
 */
export function feedbackHook(ctx: ClientContext, provider: Governor): AttemptHook {
  return {
    begin() {
      let atSend: Array<number | undefined> | undefined;
      return {
        admitted() {
          atSend = FEEDBACK_RESOURCES.map(({ resource }) => provider.remaining(resource));
        },
        succeeded({ rateLimit }) {
          if (rateLimit) lower(ctx, provider, rateLimit, atSend ?? []);
        },
      };
    },
  };
}

function lower(
  ctx: ClientContext,
  provider: Governor,
  info: RateLimitInfo,
  atSend: ReadonlyArray<number | undefined>,
): void {
  FEEDBACK_RESOURCES.forEach(({ resource, remaining }, i) => {
    const theirs = info[remaining];
    const ours = atSend[i];
    if (theirs === undefined || ours === undefined) return;
    if (!(theirs >= 0 && Number.isFinite(theirs))) {
      ctx.logger.warn('ignored a rate-limit remaining count below 0', {
        provider: ctx.provider,
        resource,
        remaining: theirs,
      });
      return;
    }
    if (theirs >= ours) return;
    const lowered = ours - theirs;
    provider.lowerRemaining(resource, lowered);
    ctx.emit({ type: 'feedback', resource, lowered });
  });
}
