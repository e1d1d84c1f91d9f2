// What a governor's events add to the metrics: admissions, waits, rejections and cooldowns.
import type { GovernorEvent } from '@tollgate/limits';
import { TOLLGATE_ATTR } from './conventions.js';
import type { Recorder } from './Recorder.js';

/**
 * Records one governor event; events that are not measured are ignored. `governorLabel`
 * replaces the governor's name in the metrics (a fleet's many per-agent governors are one series).
 */
export function recordGovernorEvent(event: GovernorEvent, recorder: Recorder, governorLabel?: string): void {
  const governor = { [TOLLGATE_ATTR.governor]: governorLabel ?? event.governor };
  switch (event.type) {
    case 'acquired':
      recorder.add('admissions', 1, governor);
      recorder.record('waitDuration', event.waitedMs / 1000, governor);
      return;
    case 'rejected':
      recorder.add('rejections', 1, { ...governor, [TOLLGATE_ATTR.reason]: event.limit });
      return;
    case 'timeout':
      if (event.kind === 'wait')
        recorder.add('rejections', 1, { ...governor, [TOLLGATE_ATTR.reason]: 'wait_timeout' });
      return;
    case 'aborted':
      recorder.add('rejections', 1, { ...governor, [TOLLGATE_ATTR.reason]: 'aborted' });
      return;
    case 'cooldown':
      recorder.add('cooldowns', 1, governor);
      return;
    default:
      return;
  }
}
