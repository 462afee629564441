"""The unsubscribe endpoint behind `newsletter serve`: a small stdlib WSGI application.

`app.make_app(settings)` answers the path of UNSUBSCRIBE_URL (RFC 8058 one-click POST, a
confirmation page for a GET) and `/healthz`; `pages` renders its plain-HTML pages.
"""

from newsletter.unsubscribe.app import make_app

__all__ = ["make_app"]
