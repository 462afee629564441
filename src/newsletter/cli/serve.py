"""`newsletter serve`: the web application (signup, confirmation, preferences, unsubscribe)."""

from __future__ import annotations

import signal
import sys
from types import FrameType

import click

from newsletter.cli.common import project
from newsletter.cli.console import err_console, out_console
from newsletter.gates import values


@click.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1: put a reverse proxy in front).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default 8080; 0 picks a free one).")
def serve(host: str | None, port: int | None) -> None:
    """Run the web pages with waitress until Ctrl-C: signup with double opt-in
    (NEWSLETTER_SUBSCRIBE_URL and its /confirm), the preference centre
    (NEWSLETTER_PREFERENCES_URL), one-click unsubscribe (UNSUBSCRIBE_URL) and /healthz.

    \b
    Example:
        newsletter serve --port 8080
    """
    from waitress import create_server

    from newsletter.web import make_app

    home = project()
    config = home.settings()
    host = host or config.env.get("NEWSLETTER_SERVE_HOST", "127.0.0.1")
    if port is None:
        port = values.port("NEWSLETTER_SERVE_PORT", config.env.get("NEWSLETTER_SERVE_PORT", "8080"))
    app = make_app(config, home.root)
    proxy: dict[str, object] = {}
    if app.web.trusted_proxy:  # the reverse proxy's X-Forwarded-For names the client (for the per-IP limit)
        proxy = {
            "trusted_proxy": app.web.trusted_proxy,
            "trusted_proxy_count": 1,
            "trusted_proxy_headers": {"x-forwarded-for"},
            "clear_untrusted_proxy_headers": True,
        }
    server = create_server(
        app,
        host=host,
        port=port,
        threads=4,
        max_request_body_size=64 * 1024,
        ident="newsletter",
        channel_timeout=30,
        **proxy,
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    shown = f"[{host}]" if ":" in host else host
    paths = ", ".join((app.web.subscribe_path, app.web.preferences_path, app.path))
    out_console().print(
        f"Serving http://{shown}:{server.effective_port} ({paths}; database {config.journal_path};"
        f" confirmation emails to {app.mail.describe()}); Ctrl-C stops",
        soft_wrap=True,
    )
    sys.stdout.flush()  # a supervisor or a test reads the URL while the server runs
    server.run()  # waitress closes its sockets on Ctrl-C or SystemExit
    err_console().print("stopped")


def register(group: click.Group) -> None:
    group.add_command(serve)
