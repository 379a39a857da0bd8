"""Pages for people: the API docs (Swagger UI) and the message docs, in Chinese (the web app
itself is served by ``gateway/web.py``).

Swagger UI comes from the ``swagger-ui-bundle`` package, which ships its assets: no CDN, since
the machines reach only package registries. No inline script either, so a strict CSP holds.
"""

import html
import json
from pathlib import Path

import swagger_ui_bundle
from werkzeug.wrappers import Response

SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)
SWAGGER_ASSETS = {  # what /docs/assets/<name> serves; nothing else from the package directory
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "application/javascript",
    "swagger-ui-standalone-preset.js": "application/javascript",
    "favicon-32x32.png": "image/png",
}
ASSET_MAX_AGE = 86400

DOCS_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>宝岛平台接口说明</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/favicon.ico">
<style>body{margin:0} .bd-intro{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;
max-width:1460px;margin:1em auto 0;padding:0 20px;color:#3b4151}</style></head><body>
<div class="bd-intro"><h2>宝岛 · 在职党员进社区双报到平台 接口说明</h2>
<p>登录：<code>POST /api/auth/login</code>，之后点右侧“Authorize”填入返回的 token。所有错误均为
<code>{"error": {"code": "…", "message": "…", "fields": {…}}}</code>。机器可读文档：
<a href="/openapi.json">/openapi.json</a>；消息接口（给外部系统）：<a href="/asyncapi">/asyncapi</a>。</p></div>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/assets/init.js"></script>
</body></html>"""

DOCS_INIT_JS = """window.ui = SwaggerUIBundle({
  url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, docExpansion: "list",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset.slice(1)],
  layout: "BaseLayout", persistAuthorization: true, tryItOutEnabled: false
});
"""


def docs_page() -> Response:
    return Response(DOCS_HTML, mimetype="text/html")


def docs_asset(name: str) -> Response | None:
    """A Swagger UI file from the package (or our initialiser); None if not one of them."""
    if name == "init.js":
        body, mimetype = DOCS_INIT_JS, "application/javascript"
    elif name in SWAGGER_ASSETS:
        body, mimetype = (SWAGGER_DIR / name).read_bytes(), SWAGGER_ASSETS[name]
    else:
        return None
    return Response(body, mimetype=mimetype, headers={"Cache-Control": f"public, max-age={ASSET_MAX_AGE}"})


def favicon() -> Response:
    return Response((SWAGGER_DIR / "favicon-32x32.png").read_bytes(), mimetype="image/png",
                    headers={"Cache-Control": f"public, max-age={ASSET_MAX_AGE}"})


def _payload_rows(schema: dict, prefix: str = "") -> list[tuple[str, str, bool, str]]:
    """(field, type, required, description) rows of a JSON Schema object, nested fields dotted."""
    rows = []
    required = set(schema.get("required", []))
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("type", "object")
        if kind == "array":
            kind = f"{(prop.get('items') or {}).get('type', 'object')}[]"
        if isinstance(kind, list):
            kind = " | ".join(kind)
        rows.append((prefix + name, kind, name in required, prop.get("description", "")))
        if prop.get("properties"):
            rows.extend(_payload_rows(prop, prefix + name + "."))
        elif (prop.get("items") or {}).get("properties"):
            rows.extend(_payload_rows(prop["items"], prefix + name + "[]."))
    return rows


def asyncapi_page(document: dict) -> Response:
    """The AsyncAPI document as a page a person can read: each channel with its message fields."""
    esc = html.escape
    messages = document.get("components", {}).get("messages", {})
    parts = [f"<h1>{esc(document['info']['title'])} <small>v{esc(document['info']['version'])}</small></h1>",
             "<p>机器可读文档：<a href='/asyncapi.json'>/asyncapi.json</a>（AsyncAPI "
             f"{esc(document['asyncapi'])}）。HTTP 接口见 <a href='/docs'>/docs</a>。</p>"]
    parts += [f"<p>{esc(line)}</p>" for line in document["info"].get("description", "").split("\n") if line]
    parts.append("<nav><h2>目录</h2><ul>" + "".join(
        f"<li><a href='#{esc(name)}'>{esc(name)}</a></li>" for name in document.get("channels", {})) + "</ul></nav>")
    for name, channel in document.get("channels", {}).items():
        for direction, label in (("subscribe", "接收"), ("publish", "发送")):
            operation = channel.get(direction)
            if not operation:
                continue
            ref = operation.get("message", {}).get("$ref", "")
            message = messages.get(ref.rsplit("/", 1)[-1], operation.get("message", {}))
            rows = _payload_rows(message.get("payload", {}))
            table = "".join(f"<tr><td><code>{esc(f)}</code></td><td>{esc(t)}</td><td>{'是' if r else ''}</td>"
                            f"<td>{esc(d)}</td></tr>" for f, t, r, d in rows)
            example = message.get("examples", [{}])[0].get("payload") if message.get("examples") else None
            parts.append(
                f"<section class='channel' id='{esc(name)}'><h2><span class='dir'>{label}</span> {esc(name)}</h2>"
                f"<p>{esc(channel.get('description', ''))}</p><p>{esc(operation.get('summary', ''))}</p>"
                f"<table><tr><th>字段</th><th>类型</th><th>必填</th><th>说明</th></tr>{table}</table>"
                + (f"<pre>{esc(json.dumps(example, ensure_ascii=False, indent=2))}</pre>" if example else "")
                + "</section>")
    page = ("<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>宝岛平台消息接口</title>"
            "<link rel='icon' type='image/png' href='/favicon.ico'><style>"
            "body{font-family:system-ui,'PingFang SC','Microsoft YaHei',sans-serif;max-width:1100px;margin:2em auto;"
            "padding:0 1em;color:#222} h1{color:#b71c1c} .channel{border-top:2px solid #b71c1c;margin-top:1.5em}"
            ".dir{background:#1565c0;color:#fff;border-radius:4px;padding:0 .4em;font-size:.8em}"
            "table{border-collapse:collapse;width:100%} td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left}"
            "pre{background:#f6f6f6;padding:.6em;overflow:auto}</style></head><body>"
            + "".join(parts) + "</body></html>")
    return Response(page, mimetype="text/html")

