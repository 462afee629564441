"""The email itself: a composed issue (rendered once per edition) and the per-recipient message.

Owns: `compose` (an issue, its settings and its editions ready to send), `message` (the
`MessageFactory` that splices a recipient's name, links and headers into pre-encoded bytes),
`dkim` (signing), `webcopy` (the web copy of what a send sends, kept for the archive).

May import: `content`, `audience` (the subscriber record, tokens), `store` (the web copy's
record type), the core. Invariant: nothing per recipient calls Jinja, MJML or premailer.
Read first: `message.MessageFactory.build`.
"""
