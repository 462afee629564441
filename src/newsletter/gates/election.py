"""The election-period gate: NEWSLETTER_DISSOLUTION and NEWSLETTER_POLLING_DAY, read as one pair.

From dissolution to polling day there are no Members of Parliament, and House resources
(a newsletter paid for by the office, its list of constituents) must not be used for what
may be campaigning; a by-election's period is written the same way. The dates are ISO
(`2029-05-01`) only: a setting read as 05/01 in one office and 01/05 in another would let a
send through on the wrong day. Half a pair, a polling day before dissolution, or a date that
is not a real one is refused out loud, naming the setting, never ignored: a rule that quietly
switched itself off would be worse than none.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.errors import ConfigError

DISSOLUTION = "NEWSLETTER_DISSOLUTION"
POLLING_DAY = "NEWSLETTER_POLLING_DAY"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class ElectionPeriod:
    """Dissolution to polling day, both days included."""

    dissolution: dt.date
    polling_day: dt.date

    def covers(self, day: dt.date) -> bool:
        return self.dissolution <= day <= self.polling_day

    def describe(self) -> str:
        return f"{DISSOLUTION}={self.dissolution.isoformat()} to {POLLING_DAY}={self.polling_day.isoformat()}"


def iso_date(name: str, raw: str) -> dt.date:
    """A date written YYYY-MM-DD that exists; ConfigError naming `name` otherwise."""
    text = raw.strip()
    shown = repr(text[:40] + ("..." if len(text) > 40 else ""))
    if not _ISO_DATE.fullmatch(text):
        raise ConfigError(f"{name}: {shown} is not a date written YYYY-MM-DD (for example 2029-05-01)")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{name}: {shown} is not a date that exists") from None


def election_period(env: Mapping[str, str]) -> ElectionPeriod | None:
    """The period the two settings give, None when neither is set."""
    dissolution_raw = env.get(DISSOLUTION, "").strip()
    polling_raw = env.get(POLLING_DAY, "").strip()
    if not dissolution_raw and not polling_raw:
        return None
    if not dissolution_raw:
        raise ConfigError(
            f"{POLLING_DAY} is set but {DISSOLUTION} is not: an election period needs both dates "
            "(for a by-election, the day the period starts)"
        )
    if not polling_raw:
        raise ConfigError(f"{DISSOLUTION} is set but {POLLING_DAY} is not: an election period needs both dates")
    dissolution = iso_date(DISSOLUTION, dissolution_raw)
    polling_day = iso_date(POLLING_DAY, polling_raw)
    if polling_day < dissolution:
        raise ConfigError(f"{POLLING_DAY}: {polling_day.isoformat()} is before {DISSOLUTION} {dissolution.isoformat()}")
    return ElectionPeriod(dissolution, polling_day)


def uk_today() -> dt.date:
    """Today in the United Kingdom, where the dates are set (a server on UTC would otherwise
    let a send through in the first hour of a summer dissolution day); the machine's own date
    when its time-zone database has no Europe/London."""
    try:
        return dt.datetime.now(ZoneInfo("Europe/London")).date()
    except ZoneInfoNotFoundError:
        return dt.date.today()
