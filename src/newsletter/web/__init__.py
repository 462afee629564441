"""The web application of `newsletter serve`: a small stdlib WSGI app run by waitress.

`app.make_app(settings)` answers one-click unsubscribe (the path of UNSUBSCRIBE_URL) and
`/healthz`; `pages` renders its plain-HTML pages from `templates/`.
"""

from newsletter.web.app import make_app

__all__ = ["make_app"]
