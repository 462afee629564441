"""`newsletter preview`: a local page over compose + message that reloads on every save.

`server.py` serves it, `state.py` rebuilds and takes the real message apart, `watch.py` watches
the project's files, `readers.py` is the subscriber picker; `page.*` is what the browser loads.

May import: `checks`, `mail`, `audience`, `content`, the core. Never sends and never writes the
database. Read first: `state.Rebuilder`.
"""

from newsletter.preview.server import PreviewServer

__all__ = ["PreviewServer"]
