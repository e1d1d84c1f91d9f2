// Compiles every ```ts block of README.md and docs/*.md as a user would: under the
// `tsc --init` defaults (strict, exactOptionalPropertyTypes, nodenext) against the BUILT
// packages (run `npm run build` first). Each block is its own module.
//
// - A block marked `<!-- snippet: examples/FILE.ts#REGION -->` is a region of an example;
//   the whole example is compiled instead.
// - A block containing `"experimentalDecorators": true` (in a comment telling the reader
//   to set it) is compiled with that option.
// - A block preceded by `<!-- docs-check: skip REASON -->` is skipped; the reason is
//   required and printed. Keep these rare.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { initOptions } from './strict-tsconfig.mjs';

const root = join(import.meta.dirname, '..');
const out = join(root, '.tollgate', 'docs-check');

const block = /^```ts\n([\s\S]*?)^```/gm;
const marker = /<!-- (snippet: (\S+)#\S+|docs-check: skip(.*?)) -->\s*$/;

function blocksOf(doc) {
  const text = readFileSync(join(root, doc), 'utf8');
  return [...text.matchAll(block)].map((m) => {
    const line = text.slice(0, m.index).split('\n').length; // the ```ts line
    const before = text.slice(0, m.index).trimEnd().split('\n').at(-1) ?? '';
    const [, , example, skip] = marker.exec(before) ?? [];
    return { doc, line, code: m[1], example, skip: skip?.trim() };
  });
}

const docs = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const missing = readdirSync(join(root, 'packages')).filter(
  (p) => !existsSync(join(root, 'packages', p, 'dist', 'index.d.ts')),
);
if (missing.length > 0) {
  console.error(`docs-check: packages not built (${missing.join(', ')}); run \`npm run build\` first`);
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');

const projects = { plain: new Set(), decorators: new Set() };
const places = new Map(); // written file -> { doc, line }
let skipped = 0;
for (const b of docs.flatMap(blocksOf)) {
  if (b.skip !== undefined) {
    if (!b.skip) throw new Error(`${b.doc}:${b.line}: a docs-check skip needs a reason`);
    console.log(`docs-check: skipped ${b.doc}:${b.line} (${b.skip})`);
    skipped++;
    continue;
  }
  const decorators = b.code.includes('"experimentalDecorators": true');
  if (b.example) {
    projects[decorators ? 'decorators' : 'plain'].add(relative(out, join(root, b.example)));
    continue;
  }
  const file = `${b.doc.replaceAll('/', '_')}_${b.line}.ts`;
  writeFileSync(join(out, file), b.code);
  places.set(file, b);
  projects[decorators ? 'decorators' : 'plain'].add(file);
}

let failed = false;
for (const [name, files] of Object.entries(projects)) {
  if (files.size === 0) continue;
  const compilerOptions = {
    ...initOptions,
    noEmit: true,
    ...(name === 'decorators' ? { experimentalDecorators: true } : {}),
  };
  const config = `tsconfig.${name}.json`;
  writeFileSync(join(out, config), JSON.stringify({ compilerOptions, files: [...files] }, null, 2));
  const tsc = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config, '--pretty', 'false'],
    { cwd: out, encoding: 'utf8' },
  );
  // Point each error at the line of the doc it comes from.
  const report = `${tsc.stdout}${tsc.stderr}`.replace(/^(\S+?\.ts)\((\d+),(\d+)\)/gm, (all, file, l, c) => {
    const place = places.get(file);
    return place ? `${place.doc}:${place.line + Number(l)}:${c}` : all;
  });
  if (tsc.status !== 0) {
    failed = true;
    console.error(report.trim());
  }
}
const count = projects.plain.size + projects.decorators.size;
console.log(
  `docs-check: ${count} blocks and examples compiled under strict nodenext settings, ${skipped} skipped${failed ? ': FAILED' : ''}`,
);
process.exit(failed ? 1 : 0);
