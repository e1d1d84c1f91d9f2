// Copies each `// #region NAME` of an example into the docs block marked
// `<!-- snippet: examples/FILE.ts#NAME -->`. examples/docs.test.ts fails when they differ.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const snippet = /(<!-- snippet: (\S+)#(\S+) -->\s*```ts\n)([\s\S]*?)```/g;
for (const doc of readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'))) {
  const path = join(root, 'docs', doc);
  const text = readFileSync(path, 'utf8');
  const next = text.replace(snippet, (_, head, file, name) => {
    const source = readFileSync(join(root, file), 'utf8');
    const match = new RegExp(`[ \\t]*// #region ${name}\\n([\\s\\S]*?)[ \\t]*// #endregion ${name}`).exec(
      source,
    );
    if (!match) throw new Error(`${file} has no region '${name}'`);
    return `${head}${match[1]}\`\`\``;
  });
  if (next !== text) {
    writeFileSync(path, next);
    console.log(`updated docs/${doc}`);
  }
}
