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
