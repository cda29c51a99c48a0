import type { ProcessTracing, TracingOptions } from './types.js';

export type { ProcessTracing, RunTracing, TraceHeaders, TracingOptions } from './types.js';

/**
 * Starts tracing when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is
 * set: spans go as OTLP/HTTP protobuf to `<endpoint>/v1/traces` (the traces endpoint as given). Off
 * otherwise: undefined, nothing is traced, and OpenTelemetry's SDK is not even loaded (the tracer's
 * module is imported only here, when it is on).
 */
export async function startTracing(
  env: NodeJS.ProcessEnv,
  options: TracingOptions = {},
): Promise<ProcessTracing | undefined> {
  const url = tracesEndpoint(env);
  if (!url && !options.exporter) return undefined;
  const { createTracing } = await import('./tracing.js');
  const tracing = createTracing(env, url, options);
  // the export thread up before the first run: a run does not share its start with the thread's
  try {
    await tracing.ready();
  } catch (err) {
    await tracing.shutdown();
    throw err;
  }
  return tracing;
}

/**
 * The OTLP/HTTP traces URL the environment names, or undefined (tracing off). Throws, naming the
 * variable, when it is not an http(s) URL.
 */
export function tracesEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return checked('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', traces);
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!base) return undefined;
  checked('OTEL_EXPORTER_OTLP_ENDPOINT', base);
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

function checked(variable: string, url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
    throw new Error(`${variable}: "${url}" is not an http:// or https:// URL (the collector's OTLP/HTTP address)`);
  return url;
}
