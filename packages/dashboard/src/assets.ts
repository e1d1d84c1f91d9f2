// The page's files: its own (in the package's static/ folder) and uPlot's, from the installed
// package. Nothing is fetched from the network.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** One file the server sends. */
export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const staticFile = (name: string) => fileURLToPath(new URL(`../static/${name}`, import.meta.url));

/** Reads every asset once, by URL path. */
export function loadAssets(): ReadonlyMap<string, Asset> {
  const require = createRequire(import.meta.url);
  const files: Array<[string, string, string]> = [
    ['/', staticFile('index.html'), 'text/html; charset=utf-8'],
    ['/app.js', staticFile('app.js'), 'text/javascript; charset=utf-8'],
    ['/app.css', staticFile('app.css'), 'text/css; charset=utf-8'],
    ['/uplot.js', require.resolve('uplot/dist/uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    ['/uplot.css', require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'],
  ];
  return new Map(files.map(([path, file, type]) => [path, { type, body: readFileSync(file) }]));
}
