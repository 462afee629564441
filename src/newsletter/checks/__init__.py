"""The preflight of `newsletter check` and the preview: findings about a composed issue.

Owns: `preflight` (size, Gmail's clip, subject), `placeholders` (draft text left in),
`accessibility` (alt text, contrast, headings, dark mode), `links` (every link answers),
`findings` (the record each check returns).

May import: `mail`, `content`, `audience`, the core. Never sends, never writes the database.
Read first: `preflight.run_checks`.
"""
