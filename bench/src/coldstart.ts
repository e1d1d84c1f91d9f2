import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '@tollgate/simulator';
import {
  type BenchOptions,
  fmt,
  markdown,
  type Sample,
  type SectionResult,
  sample,
  table,
} from './common.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const PACKAGES = ['core', 'limits', 'llm-clients', 'agents'];

interface Run {
  readonly importedMs: number;
  readonly firstCallMs: number;
  readonly exitMs: number;
}

/** One new process running coldstart-app.mjs; built JS when the packages are built, else sources through tsx. */
function once(baseURL: string, compiled: boolean): Promise<Run> {
  const args = compiled
    ? [join(here, 'coldstart-app.mjs')]
    : ['--import', 'tsx', '--conditions=@tollgate/source', join(here, 'coldstart-app.mjs')];
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: {
      ...process.env,
      SIMULATOR_BASE_URL: baseURL,
      NODE_OPTIONS: '',
      // The sources need the repository's compiler settings (decorators), wherever tsx starts.
      ...(compiled ? {} : { TSX_TSCONFIG_PATH: join(root, 'tsconfig.tests.json') }),
    },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const exitMs = performance.now() - started;
      try {
        const r = JSON.parse(out) as { status: string; importedMs: number; firstCallMs: number };
        if (code !== 0 || r.status !== 'completed') throw new Error(`task ${r.status}, exit ${code}`);
        resolve({ importedMs: r.importedMs, firstCallMs: r.firstCallMs, exitMs });
      } catch (error) {
        reject(new Error(`cold-start app failed (${(error as Error).message}): ${err.slice(0, 500)}`));
      }
    });
  });
}

export async function coldstart(options: BenchOptions): Promise<SectionResult> {
  const compiled = PACKAGES.every((p) => existsSync(join(root, 'packages', p, 'dist', 'index.js')));
  const sim = await startSimulator({ host: '127.0.0.1' });
  const runs: Run[] = [];
  try {
    for (let i = 0; i < (options.quick ? 1 : 5); i++) runs.push(await once(sim.baseURL, compiled));
  } finally {
    await sim.close();
  }
  const of = (key: keyof Run): Sample => sample(runs.map((r) => r[key]));
  const how = compiled ? 'built JS' : 'sources through tsx (run `npm run build` for the built JS)';
  const rows = [
    ['imports of @tollgate/agents and @tollgate/llm-clients', fmt.range(of('importedMs'), fmt.ms)],
    ['first governed call done (an agent task, one call)', fmt.range(of('firstCallMs'), fmt.ms)],
    ['process exit, as its parent saw it', fmt.range(of('exitMs'), fmt.ms)],
  ];
  const header = ['from process start to', `ms (${how})`];
  return {
    name: 'coldstart',
    title: 'Cold start: process start to the first governed call',
    data: { compiled, runs },
    table: table(header, rows),
    markdown: markdown(header, rows),
    goals: [],
  };
}
