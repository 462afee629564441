"""newsletter: compose, preview and send an elected representative's email newsletter."""

__version__ = "0.1.0"
