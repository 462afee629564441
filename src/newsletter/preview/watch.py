"""Watch the files an issue is made of and call back when any of them is saved.

Folders (articles/, issues/, templates/) are watched recursively; single files (`.env`, the
subscriber list) through their parent folder, non-recursively, so the project root's other
folders (.venv, node_modules, outbox/) never cost an inotify watch. Watching the parent also
survives editors that save by writing a new file and renaming it over the old one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from watchfiles import Change, DefaultFilter, watch

OnChange = Callable[[set[Path]], None]
OnError = Callable[[BaseException], None]
STEP_MS = 50  # a save is reported once nothing else changed for 50 ms: well inside the 1 s promise


class Watcher:
    """Two watch threads sharing one stop event; `stop()` ends both within a step."""

    def __init__(self, trees: Iterable[Path], files: Iterable[Path], on_change: OnChange, on_error: OnError) -> None:
        self.trees = sorted({t.resolve() for t in trees if t.is_dir()})
        singles = {f.resolve() for f in files}
        self.files = {f for f in singles if not any(f.is_relative_to(t) for t in self.trees)}
        self.on_change = on_change
        self.on_error = on_error
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        default = DefaultFilter()
        if self.trees:
            self._spawn("preview-watch-trees", self.trees, default, recursive=True)
        parents = sorted({f.parent for f in self.files if f.parent.is_dir()})
        if parents:
            files = self.files
            self._spawn("preview-watch-files", parents, lambda _c, p: Path(p) in files, recursive=False)

    def _spawn(self, name: str, paths: list[Path], keep: Callable[[Change, str], bool], *, recursive: bool) -> None:
        thread = threading.Thread(target=self._run, args=(paths, keep, recursive), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _run(self, paths: list[Path], keep: Callable[[Change, str], bool], recursive: bool) -> None:
        try:
            for changes in watch(
                *paths,
                watch_filter=keep,
                step=STEP_MS,
                stop_event=self._stop,
                recursive=recursive,
                raise_interrupt=False,
            ):
                self.on_change({Path(path) for _change, path in changes})
        except Exception as exc:  # a watcher that dies must say so, not fail silently
            if not self._stop.is_set():
                self.on_error(exc)

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
