import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Code in docs/*.md marked `<!-- snippet: examples/FILE.ts#REGION -->` must be exactly the
 * `// #region REGION` of that example, which the example tests run.
 */
const root = join(import.meta.dirname, '..');
const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'));
const snippet = /<!-- snippet: (\S+)#(\S+) -->\s*```ts\n([\s\S]*?)```/g;

function region(file: string, name: string): string {
  const text = readFileSync(join(root, file), 'utf8');
  const match = new RegExp(`[ \\t]*// #region ${name}\\n([\\s\\S]*?)[ \\t]*// #endregion ${name}`).exec(text);
  if (!match) throw new Error(`${file} has no region '${name}'`);
  return match[1]!;
}

const snippets = docs.flatMap((doc) =>
  [...readFileSync(join(root, 'docs', doc), 'utf8').matchAll(snippet)].map(
    ([, file, name, code]) => [`docs/${doc} shows ${file}#${name}`, file!, name!, code!] as const,
  ),
);

describe('docs show example code exactly as the tested examples have it', () => {
  it.each(snippets)('%s', (_title, file, name, code) => {
    expect(code, 'run `npm run docs:snippets` after changing an example').toBe(region(file, name));
  });
});

it('the agents guide shows both regions of the research agent, then the mixed-providers one', () => {
  const text = readFileSync(join(root, 'docs', 'agents.md'), 'utf8');
  expect([...text.matchAll(snippet)].map((m) => m[2])).toEqual(['agent', 'container', 'providers']);
});
