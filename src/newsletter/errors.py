"""One root exception, so the CLI can map every expected failure to one line and an exit code.

Bad input (a file, a field, a setting) exits 2; a failure while working (a relay that refuses,
a disk that fills) exits 1. Messages name the file and line, the field or the host they concern.
"""

from __future__ import annotations


class NewsletterError(Exception):
    """Root of every error the tool expects and reports without a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class InputError(NewsletterError, ValueError):
    """Bad input: a malformed file, a missing article, an invalid setting. Exit code 2."""

    exit_code = 2


class ConfigError(InputError):
    """A setting in the environment or `.env` is missing or invalid."""


class RenderError(InputError):
    """A template failed to render or produced something that is not a valid email."""


class DeliveryError(NewsletterError):
    """Delivery failed for everybody (relay refused, authentication failed, disk full)."""


def where(path: object, line: int | None = None) -> str:
    """Format a location prefix the same way everywhere: `path:line`."""
    return f"{path}:{line}" if line else f"{path}"


def cannot_listen(host: str, port: int, exc: OSError | ValueError, *, hint: str) -> InputError:
    """The one line for a server that cannot bind its address (`preview`, `serve`): a busy port
    or an address this machine does not have is the user's to change (exit 2), not a traceback.

    waitress reports a host it cannot resolve as a bare ValueError, hence the second form."""
    shown = f"[{host}]" if ":" in host else host
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not an address this machine can listen on"
    return InputError(f"{shown}:{port}: cannot listen: {reason}", hint=hint)
