// The packages as a user gets them: packs every package (after `npm run build`), checks
// what each tarball ships, installs the tarballs into a new project outside the monorepo
// (with only their declared dependencies and peers), compiles scripts/consumer/app.ts under
// the strict `tsc --init` settings and runs it against the simulator on 127.0.0.1, on this
// Node and on each Node major in NODE_MAJORS, taken from the npm registry's
// node-<platform>-<arch> packages.
//
// A Node major that cannot be installed is reported loudly; it fails the run only under CI
// on linux-x64, where the package is known to install.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initOptions } from './strict-tsconfig.mjs';

const NODE_MAJORS = [22, 24];
const root = join(import.meta.dirname, '..');
const started = performance.now();
const packages = readdirSync(join(root, 'packages'));
const failures = [];

function run(command, args, cwd, env = process.env) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`\`${command} ${args.join(' ')}\` failed in ${cwd}:\n${result.stdout}${result.stderr}`);
  }
  return result.stdout;
}

function checkTarball({ name, files }) {
  const paths = files.map((f) => f.path);
  for (const needed of ['README.md', 'LICENSE', 'package.json', 'dist/index.js', 'dist/index.d.ts']) {
    if (!paths.includes(needed)) failures.push(`${name} does not ship ${needed}`);
  }
  for (const path of paths.filter((p) => /\.test\.|test-support\//.test(p))) {
    failures.push(`${name} ships ${path}`);
  }
}

/** The node binary of a major version, installed once into node_modules/.cache. */
function nodeBinary(major) {
  const dir = join(root, 'node_modules', '.cache', 'tollgate-node', String(major));
  const bin = join(dir, 'node_modules', `node-${process.platform}-${process.arch}`, 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const spec = `node-${process.platform}-${process.arch}@${major}`;
    run('npm', ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', spec], root);
  }
  return bin;
}

for (const p of packages) {
  if (!existsSync(join(root, 'packages', p, 'dist', 'index.js'))) {
    console.error(`consumer-test: packages/${p} is not built; run \`npm run build\` first`);
    process.exit(1);
  }
}

const app = mkdtempSync(join(tmpdir(), 'tollgate-consumer-'));
try {
  const workspaces = packages.flatMap((p) => ['--workspace', `packages/${p}`]);
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', app, ...workspaces], root));
  for (const tarball of packed) checkTarball(tarball);
  console.log(`consumer-test: packed ${packed.map((t) => t.filename).join(', ')}`);

  const dependencies = Object.fromEntries(packed.map((t) => [t.name, `file:./${t.filename}`]));
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'tollgate-consumer',
      private: true,
      type: 'module',
      dependencies: { ...dependencies, zod: '^4' },
      devDependencies: { '@types/node': '^20.19.0' },
    }),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], app);
  mkdirSync(join(app, 'src'));
  copyFileSync(join(root, 'scripts', 'consumer', 'app.ts'), join(app, 'src', 'app.ts'));
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { ...initOptions, rootDir: 'src', outDir: 'dist' }, include: ['src'] }),
  );
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], app);
  console.log('consumer-test: the app compiles under strict nodenext settings');

  const env = { ...process.env, NODE_OPTIONS: '' };
  process.stdout.write(run(process.execPath, ['dist/app.js'], app, env));
  for (const major of NODE_MAJORS) {
    let bin;
    try {
      bin = nodeBinary(major);
    } catch (error) {
      const expected = Boolean(process.env.CI) && process.platform === 'linux' && process.arch === 'x64';
      console.error(
        `!!\n!! consumer-test: Node ${major} could not be installed from the npm registry; not tested`,
      );
      console.error(`!! ${String(error.message).split('\n').slice(0, 3).join('\n!! ')}\n!!`);
      if (expected) failures.push(`Node ${major} did not install`);
      continue;
    }
    process.stdout.write(run(bin, ['dist/app.js'], app, env));
  }
} catch (error) {
  failures.push(error.message);
} finally {
  rmSync(app, { recursive: true, force: true });
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (failures.length > 0) {
  console.error(`consumer-test: FAILED after ${seconds} s\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log(`consumer-test: passed in ${seconds} s`);
