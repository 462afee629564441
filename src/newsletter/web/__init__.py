"""The web application of `newsletter serve`: a small stdlib WSGI app run by waitress.

`app.make_app(settings)` answers signup and confirmation, preferences, one-click unsubscribe
(the path of UNSUBSCRIBE_URL) and `/healthz`; `pages` renders its plain-HTML pages from
`templates/`.

May import: `delivery` and `mail` (confirmation mail), `audience` (tokens), `content` (the
templates' renderer), `store`, the core. Never `sending`, `preview` or the CLI.
Read first: `app.make_app`.
"""

from newsletter.web.app import make_app

__all__ = ["make_app"]
