"""A send, from the command's options to the last journal commit.

Owns: `start` (the one entry point the CLI calls: chooses the backend, refuses example
values, opens the journal, takes the send lock, selects and plans; returns a `PreparedSend`
whose `run()` sends), `plan` (who gets it now and why not the others), `run` (the real send,
a test send, a dry run), `loop` (workers and sessions), `schedule` (who next, when to stop),
`outcomes` (a reply -> a journal state), `committer` (journal batching), `report` (counts and
progress for the CLI), `status` (what the journal records of an issue, for `newsletter status`).

May import: `delivery`, `mail`, `audience`, `content`, `store`, the core. Never prints:
progress leaves through a callback.
Invariant: a recipient is committed as `sending` before the body goes out.
Read first: `start.prepare_send`, then `loop.SendLoop`.
"""
