"""Dates that people type into spreadsheets: the gate for a consent date in a subscriber CSV.

A UK office's spreadsheet saved as CSV writes 3 April 2018 as `03/04/2018`; a US machine writes
4 March the same way. Reading only ISO dates dropped every such row, and guessing per row would
record the wrong consent date, so a list is read in one order that is said out loud: day first
unless the office says otherwise (`--date-format`). ISO dates (`2018-04-03`, with or without a
time) and dates with the month's name (`3 Apr 2018`) cannot be misread and are read in every
order. A value that does not fit is refused with why, never guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

DAY_FIRST = "dmy"
MONTH_FIRST = "mdy"
ISO = "iso"
ORDERS = (DAY_FIRST, MONTH_FIRST, ISO)

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})" + _TIME + r"\Z")
_YEAR_FIRST = re.compile(r"(\d{4})([/.-])(\d{1,2})\2(\d{1,2})" + _TIME + r"\Z")
_NUMERIC = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})" + _TIME + r"\Z")
_MONTH_NAMES = "jan january feb february mar march apr april may jun june jul july aug august sep sept september"
_MONTH_NAMES += " oct october nov november dec december"
_MONTHS = {name: ("janfebmaraprmayjunjulaugsepoctnovdec".index(name[:3]) // 3 + 1) for name in _MONTH_NAMES.split()}
_DAY_NAMED = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[ /.-]?([a-z]+)\.?[ /.,-]+(\d{4}|\d{2})" + _TIME + r"\Z", re.I)
_NAMED_DAY = re.compile(r"([a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})" + _TIME + r"\Z", re.I)
_PATTERN_PARTS = (("%d",), ("%m", "%b", "%B"), ("%Y", "%y"))


@dataclass(frozen=True)
class DateFormat:
    """How a list writes its dates: `dmy`, `mdy`, `iso`, or a strftime pattern. `given` is False
    for the default (day first), so a list whose dates turn out to be month first is questioned
    rather than misread (see `audience.csvfile`)."""

    order: str = DAY_FIRST
    given: bool = False

    @property
    def numeric(self) -> bool:
        return self.order in (DAY_FIRST, MONTH_FIRST)


DEFAULT = DateFormat()


def date_format(spec: str | None) -> DateFormat:
    """`--date-format` as given (None: the default, day first); raises ValueError with why."""
    if spec is None:
        return DEFAULT
    text = spec.strip()
    if text.lower() in ORDERS:
        return DateFormat(text.lower(), True)
    if "%" not in text:
        raise ValueError(f"{spec!r} is not a date format: use iso, dmy, mdy or a pattern such as %d/%m/%Y")
    missing = [" or ".join(options) for options in _PATTERN_PARTS if not any(o in text for o in options)]
    if missing:
        raise ValueError(f"the pattern {spec!r} has no {', no '.join(missing)}: a consent date needs all three")
    try:
        dt.datetime.strptime(dt.date(2018, 4, 3).strftime(text), text)
    except ValueError as exc:
        raise ValueError(f"the pattern {spec!r} cannot be read back: {exc}") from None
    return DateFormat(text, True)


def read_date(text: str, form: DateFormat = DEFAULT, today: dt.date | None = None) -> dt.date:
    """The date `text` means in `form`; raises ValueError saying why it cannot be read.
    A two-digit year is this century unless that is in the future; a future date is refused."""
    today = today or dt.date.today()
    value = text.strip()
    found = _read(value, form, today)
    if found > today:
        raise ValueError(f"{found.isoformat()} is in the future")
    return found


def _read(value: str, form: DateFormat, today: dt.date) -> dt.date:
    if m := _ISO.match(value):
        return _date(int(m[1]), int(m[2]), int(m[3]))
    if form.order == ISO:
        raise ValueError("not an ISO date (YYYY-MM-DD); --date-format says how the list writes dates")
    if form.numeric:
        if m := _YEAR_FIRST.match(value):
            return _date(int(m[1]), int(m[3]), int(m[4]))
        if m := _NUMERIC.match(value):
            first, second, year = int(m[1]), int(m[3]), _year(m[4], today)
            day, month = (first, second) if form.order == DAY_FIRST else (second, first)
            if month > 12:
                if form.order == DAY_FIRST:
                    raise ValueError(f"not day/month/year: there is no month {month} (is the list month first?)")
                raise ValueError(f"not month/day/year: there is no month {month} (is the list day first?)")
            return _date(year, month, day)
        if m := _DAY_NAMED.match(value):
            return _date(_year(m[3], today), _month(m[2]), int(m[1]))
        if m := _NAMED_DAY.match(value):
            return _date(int(m[3]), _month(m[1]), int(m[2]))
        raise ValueError("not a date (expected day/month/year such as 03/04/2018, or 2018-04-03)")
    try:
        return dt.datetime.strptime(value, form.order).date()
    except ValueError:
        raise ValueError(f"does not match --date-format {form.order!r}") from None


def fits_both(text: str) -> bool:
    """Whether `text` is a numeric date that reads as a different day in either order
    (03/04/2018: 3 April or 4 March), so a list with one month-first date makes it doubtful."""
    m = _NUMERIC.match(text.strip())
    return m is not None and int(m[1]) <= 12 and int(m[3]) <= 12 and int(m[1]) != int(m[3])


def month_first_only(text: str) -> bool:
    """Whether `text` can only be month/day/year (12/25/2018): a list that holds one was
    written month first, whatever the default says."""
    m = _NUMERIC.match(text.strip())
    return m is not None and 1 <= int(m[1]) <= 12 and 12 < int(m[3]) <= 31


def _year(digits: str, today: dt.date) -> int:
    if len(digits) == 4:
        return int(digits)
    year = 2000 + int(digits)
    return year if year <= today.year else year - 100


def _month(name: str) -> int:
    number = _MONTHS.get(name.lower())
    if number is None:
        raise ValueError(f"{name!r} is not the name of a month")
    return number


def _date(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        if not 1 <= month <= 12:
            raise ValueError(f"there is no month {month}") from None
        if year < dt.MINYEAR:
            raise ValueError(f"there is no year {year}") from None
        raise ValueError(f"there is no day {day} in {dt.date(year, month, 1):%B %Y}") from None
