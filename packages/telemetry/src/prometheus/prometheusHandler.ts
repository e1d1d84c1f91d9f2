// An HTTP handler serving metrics at /metrics in the Prometheus text exposition format.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkOptions, InvalidArgumentError, rule } from '@tollgate/core';
import { PROMETHEUS_CONTENT_TYPE, renderExposition } from './exposition.js';
import { PrometheusRegistry } from './PrometheusRegistry.js';

/** What `prometheusHandler` serves: a registry, or what `instrument` returned. */
export type MetricsSource = PrometheusRegistry | { readonly registry: PrometheusRegistry };

/** Options of {@link prometheusHandler}. */
export interface PrometheusHandlerOptions {
  /** The path served; other paths get 404. @default '/metrics' */
  readonly path?: string | undefined;
}

const registryOf = (source: MetricsSource) =>
  source instanceof PrometheusRegistry ? source : (source as { registry?: unknown })?.registry;

/**
 * A `node:http` request handler that answers `GET /metrics` with the metrics of `sources`,
 * merged, in the Prometheus text format.
 *
 * @example
 * const telemetry = instrument(fleet);
 * http.createServer(prometheusHandler(telemetry)).listen(9464, '127.0.0.1');
 *
 * @throws InvalidArgumentError when a source is not a registry nor a `Telemetry`.
 */
export function prometheusHandler(
  sources: MetricsSource | readonly MetricsSource[],
  options: PrometheusHandlerOptions = {},
): (request: IncomingMessage, response: ServerResponse) => void {
  const { path = '/metrics' } = checkOptions('prometheusHandler', options, {
    path: rule("a path starting with '/'", (v) => typeof v === 'string' && v.startsWith('/')),
  });
  const list = Array.isArray(sources) ? (sources as readonly MetricsSource[]) : [sources as MetricsSource];
  const registries = list.map((source, i) => {
    const registry = registryOf(source);
    if (!(registry instanceof PrometheusRegistry))
      throw new InvalidArgumentError(
        `prometheusHandler sources[${i}]`,
        'a PrometheusRegistry or a Telemetry',
        source,
      );
    return registry;
  });
  return (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== path) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`Not found: metrics are at ${path}\n`);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const body = renderExposition(registries.flatMap((r) => r.collect()));
    response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
}
