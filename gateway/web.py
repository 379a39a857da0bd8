"""The built web app (``web/dist``): the staff console at ``/``, the H5 at ``/h5/``.

Vite names every built asset by its content hash, so ``/assets/*`` is cached for a year as
immutable; the HTML entry pages are ``no-cache`` so a new build is picked up on the next load.
Every response carries the security headers; the app's pages also get a CSP that allows no inline
script.
"""

from pathlib import Path

from werkzeug.exceptions import NotFound as WerkzeugNotFound
from werkzeug.utils import send_from_directory
from werkzeug.wrappers import Response

from common.config import ROOT

DIST = Path(ROOT) / "web" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"

# Element Plus positions popovers with inline style attributes, hence 'unsafe-inline' for
# styles only; scripts come from our own origin and nowhere else.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

NOT_BUILT = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>宝岛工作台</title></head>
<body><h1>网页工作台尚未构建</h1><p>请在项目目录运行 <code>make run</code>（会自动安装前端依赖并构建 web/），
或手动运行 <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>，然后刷新本页。</p></body></html>"""


def secure(response: Response) -> Response:
    """The headers every answer carries (the web app's pages add their CSP in :func:`page`)."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    return response


def page(entry: str = "index.html") -> Response:
    """An entry page (``index.html`` or ``h5/index.html``); deep links of the SPA land here too."""
    path = DIST / entry
    if not path.is_file():
        response = Response(NOT_BUILT, status=503, mimetype="text/html")
    else:
        response = Response(path.read_bytes(), mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = CSP
    return secure(response)


def asset(request, path: str) -> Response:
    """A built file under ``dist/assets`` (hashed: immutable) or elsewhere in ``dist``."""
    try:
        response = send_from_directory(DIST, path, request.environ)
    except WerkzeugNotFound:
        return secure(Response("Not found", status=404, mimetype="text/plain"))
    response.headers["Cache-Control"] = IMMUTABLE if path.startswith("assets/") else "no-cache"
    return secure(response)


def wants_page(request, path: str) -> bool:
    """A browser navigating to a console deep link (not an API call) gets the app."""
    first = path.strip("/").split("/", 1)[0]
    return (request.method == "GET" and first not in ("api", "open311", "assets")
            and "text/html" in request.headers.get("Accept", ""))
