import type { ProcessTracing, TracingOptions } from './types.js';

export type { ProcessTracing, RunTracing, TraceHeaders, TracingOptions } from './types.js';

/**
 * Starts tracing when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is
 * set: spans go as OTLP/HTTP JSON to `<endpoint>/v1/traces` (the traces endpoint as given). Off
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
  return createTracing(env, url, options);
}

/** The OTLP/HTTP traces URL the environment names, or undefined (tracing off). */
export function tracesEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!base) return undefined;
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}
