"""`ledger html --serve`: a loopback-only static file server for the generated site.

When the site lies inside the workspace, the server's document root is the
workspace root, so the site's relative links to evidence folders resolve too;
`/` redirects to the site's index. Hidden paths (`.git`, `.venv`, ...) are refused.
"""

from __future__ import annotations

import http.server
from collections.abc import Callable
from functools import partial
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

HOST = "127.0.0.1"


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    index_path = "/index.html"  # set per server

    def do_GET(self):  # noqa: N802 (http.server naming)
        if self._refused():
            return
        if urlsplit(self.path).path == "/" and self.index_path != "/index.html":
            self.send_response(302)
            self.send_header("Location", self.index_path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def do_HEAD(self):  # noqa: N802
        if self._refused():
            return
        super().do_HEAD()

    def _refused(self) -> bool:
        parts = [p for p in unquote(urlsplit(self.path).path).split("/") if p]
        if any(p.startswith(".") for p in parts):
            self.send_error(404, "hidden paths are not served")
            return True
        return False

    def log_message(self, format, *args):  # keep the terminal for the URL line
        pass


def make_server(
    workspace_root: Path, site_dir: Path, port: int = 0
) -> tuple[http.server.ThreadingHTTPServer, str]:
    """A server bound to 127.0.0.1 and the URL of the site's index on it."""
    workspace_root, site_dir = workspace_root.resolve(), site_dir.resolve()
    try:
        prefix = "/" + quote(site_dir.relative_to(workspace_root).as_posix()) + "/"
        document_root = workspace_root
    except ValueError:
        prefix, document_root = "/", site_dir
    handler = type("BoundSiteHandler", (SiteHandler,), {"index_path": prefix + "index.html"})
    server = http.server.ThreadingHTTPServer(
        (HOST, port), partial(handler, directory=str(document_root))
    )
    server.daemon_threads = True
    host, bound_port = server.server_address[:2]
    assert isinstance(host, str)  # an AF_INET server's address (bytes only for AF_UNIX)
    return server, f"http://{host}:{bound_port}{prefix}index.html"


def serve_site(
    workspace_root: Path, site_dir: Path, port: int, echo: Callable[[str], None]
) -> None:
    try:
        server, url = make_server(workspace_root, site_dir, port)
    except OSError as exc:
        from ledger.errors import BadInput

        raise BadInput(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}") from None
    echo(f"serving {url}  (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        echo("stopped")
    finally:
        server.server_close()
