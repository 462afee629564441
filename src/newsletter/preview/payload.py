"""The JSON the page fetches after every rebuild: one reader's message, the checks, or the error."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from newsletter.audience.people import Subscriber
from newsletter.preview.readers import Readers
from newsletter.preview.state import GMAIL_CLIP_BYTES, Snapshot


def message_query(reader: Subscriber, version: int) -> str:
    """`?subscriber=...&v=N`: the version makes the iframe load again after each rebuild."""
    return "?" + urlencode({"subscriber": reader.email, "v": str(version)})


def state_payload(snapshot: Snapshot, readers: Readers, reader: Subscriber, instance: str) -> dict[str, Any]:
    """Everything the page shows, for one reader, from one snapshot."""
    choices, total = readers.choices()
    payload: dict[str, Any] = {
        "instance": instance,
        "version": snapshot.version,
        "builtAt": snapshot.built_at,
        "elapsedMs": round(snapshot.elapsed_ms, 1),
        "issue": str(snapshot.composed.issue.slug) if snapshot.composed else "",
        "reader": reader.email,
        "readers": [{"email": c.email, "label": c.label} for c in choices],
        "readersTotal": total,
        "readersNote": readers.note,
        "problem": None,
        "message": None,
        "findings": [],
    }
    if snapshot.problem is not None:
        problem = snapshot.problem
        payload["problem"] = {
            "kind": problem.kind,
            "title": problem.title,
            "lines": list(problem.lines),
            "detail": problem.detail,
        }
        return payload
    try:
        view = snapshot.view(reader)
    except Exception as exc:  # a bug building one reader's message shows in the page, like a failed rebuild
        title = f"Unexpected error building the message for {reader.email}"
        payload["problem"] = {
            "kind": "unexpected",
            "title": title,
            "lines": [f"{type(exc).__name__}: {exc}"],
            "detail": "",
        }
        return payload
    headers = [[name, value] for name, value in view.headers]
    query = message_query(reader, snapshot.version)
    payload["message"] = {
        "subject": next((value for name, value in view.headers if name.lower() == "subject"), ""),
        "headers": headers,
        "text": view.text,
        "htmlBytes": view.html_bytes,
        "messageBytes": view.message_bytes,
        "gmailLimit": GMAIL_CLIP_BYTES,
        "htmlUrl": "/message.html" + query,
        "emlUrl": "/message.eml" + query,
    }
    payload["findings"] = [{"level": f.level, "code": f.code, "message": f.message} for f in snapshot.findings]
    return payload
