"""The wire: where finished messages go, a folder of .eml files (`outbox`) or SMTP relays.

Owns: `base` (the `Backend`/`Session` protocol and the outcomes a delivery can have), `smtp`
(pipelined SMTP over a pool of persistent connections), `replies` (reading relay replies),
`relays` (SMTP settings, failover), `outbox`, and `pacing` (rate, hourly budget, the
concurrency window that backs off when faults cluster).

May import: `mail` (the message bytes), the core. Never the journal: the send loop decides
what a reply means for a recipient. Read first: `smtp.SmtpBackend`.
"""
