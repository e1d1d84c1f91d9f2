// Runs `tollgate-gateway` (the CLI, from source) as a child process, for tests of replicas.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..', '..', '..');

/** A gateway process. */
export interface GatewayProcess {
  /** `http://127.0.0.1:PORT/v1` */
  readonly baseURL: string;
  stop(): Promise<void>;
}

/** Starts the CLI with `env` (on a free port) and resolves once it prints its address. */
export function startGatewayProcess(
  env: Record<string, string>,
  timeoutMs = 240_000,
): Promise<GatewayProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      '--tsconfig',
      join(root, 'tsconfig.tests.json'),
      '--conditions=@tollgate/source',
      join(root, 'packages', 'gateway', 'src', 'cli.ts'),
    ],
    { cwd: root, env: { ...process.env, GATEWAY_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the gateway did not start in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /tollgate gateway on (http:\/\/\S+\/v1)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolve({ baseURL: match[1]!, stop });
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited with ${code}:\n${output}`));
    });
  });
}
