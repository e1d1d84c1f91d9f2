#!/usr/bin/env node
// Keeps the source small and sharp: no source file of a package over 400 lines and no function
// over 60 (tests, test support and generated files aside). Function lengths come from Biome's
// noExcessiveLinesPerFunction rule, set for package sources in biome.json (so `npm run lint` fails
// on a long function too).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const MAX_FILE_LINES = 400;
const root = new URL('..', import.meta.url).pathname;

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'test-support' && name !== 'node_modules' && name !== 'dist') yield* sources(path);
    } else if (/\.(ts|tsx|mts)$/.test(name) && !/\.test\.tsx?$/.test(name) && !/\.generated\./.test(name)) {
      yield path;
    }
  }
}

const problems = [];
for (const pkg of readdirSync(join(root, 'packages'))) {
  const src = join(root, 'packages', pkg, 'src');
  try {
    statSync(src);
  } catch {
    continue;
  }
  for (const file of sources(src)) {
    const lines = readFileSync(file, 'utf8').split('\n').length - 1;
    if (lines > MAX_FILE_LINES)
      problems.push(`${relative(root, file)}: ${lines} lines (at most ${MAX_FILE_LINES})`);
  }
}

const run = spawnSync('npx', ['biome', 'lint', '--colors=off', '--max-diagnostics=none', 'packages'], {
  cwd: root,
  encoding: 'utf8',
});
const lint = `${run.stdout ?? ''}${run.stderr ?? ''}`;
for (const line of lint.split('\n')) {
  const match = /^(\S+?):(\d+):\d+ lint\/complexity\/noExcessiveLinesPerFunction/.exec(line);
  if (match) problems.push(`${match[1]}:${match[2]}: a function over 60 lines`);
}

if (problems.length > 0) {
  console.error(
    `check-structure: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}`,
  );
  process.exit(1);
}
console.log('check-structure: every package source file is at most 400 lines, every function at most 60');
