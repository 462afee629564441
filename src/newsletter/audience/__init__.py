"""Who gets an issue: the subscriber records, lists from CSV files, targeting, and the
recipients of one send; imports into the list of record; bounces; signed link tokens.

Owns: `people` (the `Subscriber` record), `csvfile` (a subscriber CSV read and checked),
`targeting` (consent, suppressions, segment, edition), `recipients` (the rows a send walks,
from the database or a one-off file), `importing` (CSV -> the list of record, with consent
evidence), `bounces` and `dsn` (bounce and complaint mail -> suppressions), `tokens` (HMAC
unsubscribe and preference tokens).

May import: `content` (an issue's wards and segment), `store`, the core. Never `mail`,
`sending`, `delivery` or the CLI. Read first: `recipients.select`.
"""
