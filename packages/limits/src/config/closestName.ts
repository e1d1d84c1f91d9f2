/** Edit distance (insertions, deletions, substitutions) between `a` and `b`. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

const normalise = (name: string) => name.toLowerCase().replace(/[_-]/g, '');

/**
 * The candidate `name` most likely misspells: the same ignoring case, `_` and `-`, or
 * within a few edits (a third of its length, at least 2). `undefined` when none is close.
 *
 * @example
 * closestName('MAX_REQUEST_PER_MINUTE', ['MAX_REQUESTS_PER_MINUTE']); // 'MAX_REQUESTS_PER_MINUTE'
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const wanted = normalise(name);
  const budget = Math.max(2, Math.floor(wanted.length / 3));
  let best: string | undefined;
  let bestDistance = budget + 1;
  for (const candidate of candidates) {
    const d = distance(wanted, normalise(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
