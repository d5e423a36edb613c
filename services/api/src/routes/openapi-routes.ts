import type { App } from '../app-env.js';

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Jobs API</title>
<style>body{font:14px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}
code,pre{background:#f4f4f4;padding:.1rem .3rem;border-radius:3px}pre{padding:.6rem;overflow:auto}
.op{border-top:1px solid #ddd;padding:.6rem 0}.m{font-weight:600;display:inline-block;width:4.5rem}</style></head>
<body><h1>Jobs API</h1><p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1).</p><div id="ops">Loading…</div>
<script>
fetch('/api/openapi.json').then(r=>r.json()).then(doc=>{
  const esc=s=>String(s).replace(/[&<>]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;'}[c]));
  const out=[];
  for(const [path,ops] of Object.entries(doc.paths||{})) for(const [m,op] of Object.entries(ops)){
    const body=op.requestBody?.content?.['application/json']?.schema;
    out.push('<div class="op"><span class="m">'+m.toUpperCase()+'</span><code>'+esc(path)+'</code> '+esc(op.summary||'')+
      (body?'<pre>'+esc(JSON.stringify(body,null,2))+'</pre>':'')+
      '<div>'+Object.entries(op.responses||{}).map(([s,r])=>'<code>'+s+'</code> '+esc(r.description||'')).join(' · ')+'</div></div>');
  }
  document.getElementById('ops').innerHTML=out.join('');
});
</script></body></html>`;

/** `GET /api/openapi.json` (generated from the schemas that validate) and a small docs page at `/api/docs`. */
export function registerOpenApiRoutes(app: App): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Jobs API',
      version: '0.1.0',
      description: 'Enqueue and inspect background jobs, manage cron jobs and webhook subscriptions. Errors are application/problem+json (RFC 9457).',
    },
  });
  app.get('/api/docs', (c) => c.html(DOCS_PAGE));
}
