/**
 * The longest run of one character class (letters, whitespace or punctuation) counted
 * whole. BPE is roughly quadratic in the length of one pre-token, and a long run is one
 * pre-token; longer runs are counted in pieces of this size.
 */
export const MAX_RUN_CHARS = 128;

/** Text longer than this (256 Ki characters) is counted from a sample instead of in full. */
export const MAX_EXACT_CHARS = 262_144;

/** How a long text is sampled: this many evenly spaced windows of {@link SAMPLE_WINDOW_CHARS}. */
const SAMPLE_WINDOWS = 16;
const SAMPLE_WINDOW_CHARS = 2_048;

/** Runs longer than `MAX_RUN_CHARS` of letters (with their marks), whitespace or other symbols. */
const LONG_RUN = new RegExp(
  `[\\p{L}\\p{M}]{${MAX_RUN_CHARS + 1},}|\\s{${MAX_RUN_CHARS + 1},}|[^\\s\\p{L}\\p{M}\\p{N}]{${MAX_RUN_CHARS + 1},}`,
  'gu',
);

/** `text[from, to)` without splitting a surrogate pair at `to`. */
function pieceEnd(text: string, to: number): number {
  const code = text.charCodeAt(to - 1);
  return code >= 0xd800 && code <= 0xdbff && to < text.length ? to + 1 : to;
}

/** Counts `text` exactly, except that runs longer than `MAX_RUN_CHARS` are cut into pieces of that size. */
function countCapped(text: string, encode: (piece: string) => number): number {
  let total = 0;
  let from = 0;
  for (const run of text.matchAll(LONG_RUN)) {
    if (run.index > from) total += encode(text.slice(from, run.index));
    const end = run.index + run[0].length;
    for (let at = run.index; at < end; ) {
      const to = pieceEnd(text, Math.min(end, at + MAX_RUN_CHARS));
      total += encode(text.slice(at, to));
      at = to;
    }
    from = end;
  }
  if (from < text.length) total += encode(text.slice(from));
  return total;
}

/**
 * Counts the tokens of `text` with `encode` at a cost linear in its length and bounded
 * overall. Text with no run of one character class longer than {@link MAX_RUN_CHARS} and
 * at most {@link MAX_EXACT_CHARS} long is counted exactly; longer runs are counted in
 * pieces (within about one token per piece, usually above); longer text is estimated from
 * evenly spaced samples, scaled to its length and rounded up.
 */
export function boundedCount(text: string, encode: (piece: string) => number): number {
  if (text.length === 0) return 0;
  if (text.length <= MAX_EXACT_CHARS) return countCapped(text, encode);
  const stride = Math.floor(text.length / SAMPLE_WINDOWS);
  let sampled = 0;
  let tokens = 0;
  for (let i = 0; i < SAMPLE_WINDOWS; i++) {
    const from = i * stride;
    const sample = text.slice(from, pieceEnd(text, from + SAMPLE_WINDOW_CHARS));
    sampled += sample.length;
    tokens += countCapped(sample, encode);
  }
  return Math.ceil((tokens / sampled) * text.length);
}
