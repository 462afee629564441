"""Publishing: the web archive of sent issues (pages, index, Atom feed, sitemap), articles
imported from the office website's feed, and a starter issue from chosen articles.

Nothing here imports click or prints: the CLI (`newsletter.cli.publish`) does that.
"""
