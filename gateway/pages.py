"""The docs page for people, in Chinese, with no outside assets (the web app is ``gateway/web.py``)."""

from werkzeug.wrappers import Response

DOCS_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>宝岛平台接口说明</title>
<style>
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
h1{color:#b71c1c} h2{border-bottom:2px solid #b71c1c;padding-bottom:.2em;margin-top:2em}
.op{border:1px solid #ddd;border-radius:6px;margin:.6em 0;padding:.5em .8em}
.m{display:inline-block;min-width:4em;font-weight:bold;color:#fff;border-radius:4px;text-align:center;margin-right:.5em}
.GET{background:#1565c0}.POST{background:#2e7d32}.PUT,.PATCH{background:#ef6c00}.DELETE{background:#c62828}
code{background:#f5f5f5;padding:0 .3em} .roles{color:#666;font-size:.9em}
pre{background:#f8f8f8;padding:.6em;overflow:auto;font-size:.85em}
</style></head><body>
<h1>宝岛 · 在职党员进社区双报到平台 接口说明</h1>
<p>机器可读的文档：<a href="/openapi.json">/openapi.json</a>（OpenAPI 3）。登录：<code>POST /api/auth/login</code>，
之后在请求头加 <code>Authorization: Bearer &lt;token&gt;</code>。所有错误均为
<code>{"error": {"code": "…", "message": "…", "fields": {…}}}</code>。</p>
<div id="api">正在加载…</div>
<script>
fetch('/openapi.json').then(r => r.json()).then(doc => {
  const byTag = {};
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops))
      (byTag[op.tags[0]] = byTag[op.tags[0]] || []).push([method.toUpperCase(), path, op]);
  const esc = s => String(s).replace(/[&<>]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;'}[c]));
  const typeOf = v => v.$ref ? v.$ref.split('/').pop() : v.type === 'array' ? typeOf(v.items || {}) + '[]' : (v.type || 'object');
  const fieldsOf = schema => {
    const def = schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;
    return Object.entries(def.properties || {}).map(([k, v]) =>
      `${k}${(def.required || []).includes(k) ? ' *' : ''}: ${typeOf(v)}${v.description ? ' — ' + v.description : ''}`).join('\n');
  };
  let html = '';
  for (const tag of doc.tags) {
    const ops = byTag[tag.name]; if (!ops) continue;
    html += `<h2>${esc(tag.description)} <small>(${tag.name})</small></h2>`;
    for (const [m, p, op] of ops) {
      const body = op.requestBody ? fieldsOf(op.requestBody.content['application/json'].schema) : '';
      html += `<div class="op"><span class="m ${m}">${m}</span><code>${esc(p)}</code> — ${esc(op.summary)}
        <div class="roles">可调用：${esc(op['x-roles'].join('、'))}</div>${body ? `<pre>请求体（* 为必填）：\n${esc(body)}</pre>` : ''}</div>`;
    }
  }
  document.getElementById('api').innerHTML = html;
});
</script></body></html>"""


def docs_page() -> Response:
    return Response(DOCS_HTML, mimetype="text/html")

