"""`newsletter serve`: the web application (signup, confirmation, preferences, unsubscribe)."""

from __future__ import annotations

import dataclasses
import ipaddress
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import click

from newsletter.cli.common import project
from newsletter.cli.console import err_console, out_console
from newsletter.errors import InputError, cannot_listen
from newsletter.gates import values
from newsletter.settings import Settings
from newsletter.store.connection import shown as database_shown
from newsletter.web.config import load_web_settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

DEV_HOST = "127.0.0.1"
RELAY_SETTINGS = ("SMTP_URLS", "SMTP_HOST")  # either one sends the web app's emails through a relay


def without_relay(config: Settings) -> tuple[Settings, list[str]]:
    """`--dev` writes every email (confirmation, fresh link, welcome) to the outbox folder: the
    pages are being tried on this machine, and an address typed into them is nobody's consent to
    be mailed through the office's relay. Returns the settings without a relay and the relay
    settings left aside, which the start-up line names (never ignored in silence)."""
    aside = [name for name in RELAY_SETTINGS if config.env.get(name, "").strip()]
    env = {name: value for name, value in config.env.items() if name not in RELAY_SETTINGS}
    return dataclasses.replace(config, env=env), aside


def is_loopback(host: str) -> bool:
    """Only this machine can reach it: `localhost` or a loopback address literal (a name other
    than localhost could resolve anywhere, so it does not count)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def listen_host(given: str | None, env: Mapping[str, str], dev: bool) -> str:
    """The address to listen on; `--dev` refuses anything but loopback, since its example
    secret lets anyone who has read the README sign a link for any address."""
    if given:
        source, host = f"--host {given}", given
    elif env.get("NEWSLETTER_SERVE_HOST"):
        source, host = "NEWSLETTER_SERVE_HOST", env["NEWSLETTER_SERVE_HOST"]
    else:
        return DEV_HOST
    if dev and not is_loopback(host):
        raise InputError(
            f"{source}: --dev listens only on loopback (127.0.0.1, ::1 or localhost)",
            hint="drop --dev and set real values in .env (see .env.example) to serve other machines",
        )
    return host


def refuse_examples(example: Iterable[str]) -> None:
    """The same refusal as a real send (`Settings.example_values_in_use`): pages signed with the
    example secret, or pointing at example.org, must not face the public."""
    found = list(example)
    if found:
        raise InputError(
            f"refusing to serve with example settings: {'; '.join(found)}",
            hint="set real values in .env (see .env.example); `newsletter serve --dev` tries the pages on this machine",
        )


@click.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1: put a reverse proxy in front).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default 8080; 0 picks a free one).")
@click.option(
    "--dev",
    is_flag=True,
    help="Try the pages on this computer with the example settings: loopback only, every page says so,"
    " and every email goes to the outbox folder, never to SMTP_HOST or SMTP_URLS.",
)
def serve(host: str | None, port: int | None, dev: bool) -> None:
    """Run the web pages with waitress until Ctrl-C: signup with double opt-in
    (NEWSLETTER_SUBSCRIBE_URL and its /confirm), the preference centre
    (NEWSLETTER_PREFERENCES_URL), one-click unsubscribe (UNSUBSCRIBE_URL), /healthz and
    /readyz, with a log line per request on standard error. SIGTERM finishes the requests
    in flight, then stops.
    Refuses to start while a setting still holds an example value; --dev tries the
    pages on this machine meanwhile (newsletter serve --dev).

    \b
    Example:
        newsletter serve --port 8080
    """
    from newsletter.web import make_app
    from newsletter.web import server as web_server

    home = project()
    config = home.settings()
    host = listen_host(host, config.env, dev)
    relay_aside: list[str] = []
    if dev:
        config, relay_aside = without_relay(config)
    if port is None:
        port = values.port("NEWSLETTER_SERVE_PORT", config.env.get("NEWSLETTER_SERVE_PORT", "8080"))
    web = load_web_settings(config)  # every setting checked before anything is written
    if not dev:
        refuse_examples(config.example_values_in_use())
    # Listen before the app opens (and perhaps creates) the database: a busy port writes nothing.
    apps: list[WSGIApplication] = []

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return apps[0](environ, start_response)

    try:
        server = web_server.listen(application, host, port, web.trusted_proxy)
    except (OSError, ValueError) as exc:
        hint = "another server may be using the port; try --port 0 for any free port"
        raise cannot_listen(host, port, exc, hint=hint) from exc
    try:
        app = make_app(config, home.root, dev=dev)
    except BaseException:
        server.close()
        raise
    apps.append(app)
    web_server.log_to_stderr(requests=web.request_log)
    if dev:
        aside = f" Emails go to {app.mail.describe()}, not to {' or '.join(relay_aside)}." if relay_aside else ""
        err_console().print(f"development server: {app.pages.banner}{aside}", highlight=False, soft_wrap=True)
    shown = f"[{host}]" if ":" in host else host
    paths = ", ".join((app.web.subscribe_path, app.web.preferences_path, app.path))

    def announce() -> None:
        out_console().print(
            f"Serving http://{shown}:{server.effective_port} ({paths}; database {database_shown(config.journal_path)};"
            f" confirmation emails to {app.mail.describe()}); Ctrl-C stops",
            soft_wrap=True,
        )
        sys.stdout.flush()  # a supervisor or a test reads the URL while the server runs

    web_server.run(server, ready=announce)  # SIGTERM finishes the requests in flight; Ctrl-C stops at once
    err_console().print("stopped")


def register(group: click.Group) -> None:
    group.add_command(serve)
