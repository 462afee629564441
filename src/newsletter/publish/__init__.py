"""Publishing: the web archive of sent issues (pages, index, Atom feed, sitemap), articles
imported from the office website's feed, a starter issue from chosen articles, and the
files of `newsletter build` (web copies and a sample message).

May import: `mail` (the web copy of a composed issue), `content`, `store`, the core.
Nothing here imports click or prints: the CLI (`newsletter.cli.publish`) does that.
Read first: `archive.build_archive`.
"""
