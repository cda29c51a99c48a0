import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
} from '@opentelemetry/semantic-conventions';
import { type HttpClient, HttpFailure, type RequestOrigin } from '@sluice/engine';
import {
  type Attributes,
  contextOf,
  type SpanContext,
  SpanKind,
  type SpanRecord,
  STATUS_ERROR,
  startSpan,
} from './spans.js';

/** What the wrapper needs of the tracer (`Tracing`): a request's parent, the header writer, the span's end. */
export interface RequestTracer {
  parentOf(origin: RequestOrigin | undefined): SpanContext | undefined;
  inject(ctx: SpanContext, headers: Record<string, string>): void;
  end(span: SpanRecord): void;
}

/** HTTP methods the semantic conventions know; any other is reported as `_OTHER`. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
/** Query parameters whose values a span does not keep (credentials and signatures). */
const SECRET_PARAM = /(key|token|secret|password|passwd|signature|sig|auth|credential)/i;

/**
 * Wraps an HTTP client so that each request is a CLIENT span (OpenTelemetry's HTTP client
 * conventions: `http.request.method`, `url.full`, `server.address`, `server.port`,
 * `http.response.status_code`, `error.type`), child of the span of the run, batch and node the
 * request's `origin` names, and carries that span's W3C `traceparent` to the system it calls.
 * (Without tracing the client is not wrapped at all: `Tracing.wrapHttp` is this.)
 */
export function tracedHttpClient(http: HttpClient, tracing: RequestTracer): HttpClient {
  return async (req) => {
    const method = req.method.toUpperCase();
    const known = KNOWN_METHODS.has(method);
    const attributes: Attributes = { [ATTR_HTTP_REQUEST_METHOD]: known ? method : '_OTHER' };
    if (!known) attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = req.method;
    const url = parseUrl(req.url);
    if (url) {
      attributes[ATTR_URL_FULL] = shownUrl(url);
      attributes[ATTR_SERVER_ADDRESS] = url.hostname;
      attributes[ATTR_SERVER_PORT] = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    }
    const resends = req.origin?.resends;
    if (resends) attributes[ATTR_HTTP_REQUEST_RESEND_COUNT] = resends;
    const parent = tracing.parentOf(req.origin);
    const span = startSpan(known ? method : 'HTTP', SpanKind.CLIENT, parent, attributes);
    const headers = { ...req.headers };
    tracing.inject(contextOf(span), headers);
    try {
      const response = await http({ ...req, headers });
      attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = response.status;
      if (response.status >= 400) {
        attributes[ATTR_ERROR_TYPE] = String(response.status);
        span.status = { code: STATUS_ERROR };
      }
      return response;
    } catch (err) {
      const type = err instanceof HttpFailure ? err.code : ((err as Error).name ?? '_OTHER');
      attributes[ATTR_ERROR_TYPE] = type;
      span.status = { code: STATUS_ERROR, message: (err as Error).message };
      throw err;
    } finally {
      tracing.end(span);
    }
  };
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** The URL as a span keeps it: no user or password, and the values of credential-like query parameters redacted. */
function shownUrl(url: URL): string {
  const shown = new URL(url.href);
  if (shown.username) shown.username = 'REDACTED';
  if (shown.password) shown.password = 'REDACTED';
  for (const name of [...new Set(shown.searchParams.keys())]) {
    if (SECRET_PARAM.test(name)) shown.searchParams.set(name, 'REDACTED');
  }
  return shown.href;
}
