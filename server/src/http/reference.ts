const esc = (s: unknown) =>
  String(s).replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string,
  );

interface Operation {
  summary: string;
  description?: string;
  tags: string[];
  parameters: { name: string; in: string; required: boolean; schema: Record<string, unknown>; description?: string }[];
  requestBody?: { content: Record<string, { schema: unknown }>; description?: string };
  responses: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }>;
  security?: unknown[];
}

function typeOf(schema: Record<string, unknown>): string {
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Record<string, unknown>[]).map(typeOf).join(' | ');
  const t = schema.type ?? (schema.$ref ? 'object' : 'any');
  const range = [
    schema.minimum !== undefined ? `≥ ${schema.minimum}` : '',
    schema.maximum !== undefined ? `≤ ${schema.maximum}` : '',
    schema.default !== undefined ? `default ${JSON.stringify(schema.default)}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `${t}${range ? ` (${range})` : ''}`;
}

/** A readable, self-contained HTML reference of the API, made from the OpenAPI document. */
export function referencePage(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<string, Record<string, Operation>>;
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags[0] ?? 'other';
      const params = op.parameters.length
        ? `<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>About</th></tr>${op.parameters
            .map(
              (p) =>
                `<tr><td><code>${esc(p.name)}</code>${p.required ? ' *' : ''}</td><td>${esc(p.in)}</td><td>${esc(typeOf(p.schema))}</td><td>${esc(p.description ?? '')}</td></tr>`,
            )
            .join('')}</table>`
        : '';
      const body = op.requestBody
        ? Object.entries(op.requestBody.content)
            .map(
              ([type, { schema }]) =>
                `<details><summary>Body: <code>${esc(type)}</code>${op.requestBody?.description ? ` — ${esc(op.requestBody.description)}` : ''}</summary><pre>${esc(JSON.stringify(schema, null, 2))}</pre></details>`,
            )
            .join('')
        : '';
      const responses = Object.entries(op.responses)
        .map(([status, r]) => {
          // success answers show their schema; errors all share the error body, described once at the top
          const schema = status.startsWith('2') ? r.content?.['application/json']?.schema : undefined;
          const shown = schema
            ? `<details><summary>Answer</summary><pre>${esc(JSON.stringify(schema, null, 2))}</pre></details>`
            : '';
          return `<li><b>${esc(status)}</b> ${esc(r.description)}${shown}</li>`;
        })
        .join('');
      const html = `<section id="${esc(`${method}-${path}`)}"><h3><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code>${op.security ? ' <small>no token</small>' : ''}</h3><p>${esc(op.summary)}</p>${op.description ? `<p>${esc(op.description)}</p>` : ''}${params}${body}<ul>${responses}</ul></section>`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const info = doc.info as { title: string; version: string; description: string };
  const nav = [...byTag.keys()].map((t) => `<a href="#tag-${esc(t)}">${esc(t)}</a>`).join(' · ');
  const sections = [...byTag.entries()]
    .map(([tag, ops]) => `<h2 id="tag-${esc(tag)}">${esc(tag)}</h2>${ops.join('')}`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(info.title)} reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d2330}
h2{border-bottom:1px solid #d8dde6;padding-top:1rem;text-transform:capitalize}
section{border:1px solid #e3e7ee;border-radius:8px;padding:.5rem 1rem;margin:.8rem 0}
h3{font-size:1rem;margin:.4rem 0}.m{display:inline-block;min-width:4.2em;text-align:center;border-radius:4px;color:#fff;font-size:.8em;padding:1px 6px}
.get{background:#2f7d5b}.post{background:#2d5fa8}.put,.patch{background:#a8702d}.delete{background:#a83a2d}
table{border-collapse:collapse;width:100%;font-size:.9em}td,th{border-top:1px solid #eef0f4;padding:3px 6px;text-align:left;vertical-align:top}
pre{background:#f5f7fa;padding:.6rem;overflow:auto;font-size:.8em}small{color:#777}code{font-size:.95em}
</style></head><body><h1>${esc(info.title)} <small>${esc(info.version)}</small></h1><p>${esc(info.description)}</p>
<p>Machine-readable: <code>GET /api/openapi.json</code> (with a token). Errors answer <code>{"error":{"code","message","path"}}</code>, the message naming the field at fault.</p>
<nav>${nav}</nav>${sections}</body></html>`;
}
