"""Median cost per recipient to personalise and serialise the example issue to wire bytes,
against building the same message as an `email.message.EmailMessage` in the same run.

Two figures of ours: `build(wire=True)`, what a send through a relay builds (the message plus its
SMTP form: CRLF, dot-stuffed, the final dot), and `build()` alone, what the outbox writes.

    python benchmarks/per_recipient.py [--recipients 2000] [--rounds 5] [--issue spring-2018]

With `--issue spring-2016` (an issue with a ward edition), the readers' wards alternate between
the edition's wards and others, so the figure includes choosing each reader's edition.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe
from newsletter.audience.people import Subscriber
from newsletter.mail.compose import Composed, compose
from newsletter.mail.message import MessageFactory
from newsletter.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def subscribers(count: int) -> list[Subscriber]:
    names = ["Ann", "Zoë", "", "Siobhán", "Bob", "Łukasz", "Mary-Jane"]
    wards = ["Heatons North", "Reddish South", "Heatons South", "", "Manor"]
    return [
        Subscriber(
            email=f"reader{i}@example.org",
            first_name=names[i % len(names)],
            last_name="Smith",
            ward=wards[i % len(wards)],
        )
        for i in range(count)
    ]


Prepared = tuple[Subscriber, str, str, str]


def prepare(composed: Composed, subscriber: Subscriber) -> Prepared:
    """The personalised parts, computed outside the baseline's timer (favouring the baseline)."""
    html, text = composed.personalise(subscriber)
    return subscriber, html, text, composed.factory.unsubscribe_url(subscriber.email)


def baseline(composed: Composed, prepared: Prepared) -> bytes:
    """The straightforward way: build an EmailMessage from the personalised parts, serialise it."""
    subscriber, html, text, url = prepared
    settings = composed.settings
    message = EmailMessage()
    message["From"] = settings.from_header
    message["Reply-To"] = settings.reply_to
    message["To"] = formataddr((subscriber.name, subscriber.email))
    message["Subject"] = composed.rendered.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.sender_domain)
    message["List-Id"] = settings.list_id
    message["List-Unsubscribe"] = f"<mailto:{settings.unsubscribe_mailto}>, <{url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message.as_bytes()


def per_call_us(function, items) -> float:  # type: ignore[no-untyped-def]
    timings = []
    for item in items:
        start = time.perf_counter_ns()
        function(item)
        timings.append(time.perf_counter_ns() - start)
    return statistics.median(timings) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--issue", default="spring-2018")
    args = parser.parse_args()
    composed = compose(ROOT / "issues" / f"{args.issue}.yaml", load_settings({}))
    people = subscribers(args.recipients)
    prepared = [prepare(composed, s) for s in people[: max(200, args.recipients // 10)]]
    # The same readers, each handed straight to their edition's factory: what choosing it costs.
    direct = [(composed.factory.for_ward(p.ward), p) for p in people]
    ours, wired, theirs, unrouted = [], [], [], []
    for _ in range(args.rounds):  # interleaved, so all see the same machine noise
        ours.append(per_call_us(composed.factory.build, people))
        wired.append(per_call_us(lambda p: composed.factory.build(p, wire=True), people))
        theirs.append(per_call_us(lambda p: baseline(composed, p), prepared))
        unrouted.append(per_call_us(lambda fp: MessageFactory.build(fp[0], fp[1]), direct))
    size = len(composed.factory.build(people[0]).data)
    fast, slow = statistics.median(ours), statistics.median(theirs)
    print(f"machine: {describe()}")
    editions = len(composed.editions)
    print(f"message: {size / 1024:.1f} KB on the wire (example issue {args.issue}, {editions} edition(s))")
    sent = statistics.median(wired)
    print(f"newsletter MessageFactory.build(wire=True): {sent:8.1f} us per recipient (median of {args.rounds} rounds;")
    print(f"  rounds {min(wired):.1f}-{max(wired):.1f}; what a send through a relay builds; ratio {slow / sent:.1f}x)")
    print(f"newsletter MessageFactory.build: {fast:8.1f} us per recipient (median of {args.rounds} rounds)")
    print(f"EmailMessage + as_bytes baseline: {slow:8.1f} us per recipient")
    print(f"ratio: {slow / fast:.1f}x cheaper")
    print(f"same readers, edition chosen in advance: {statistics.median(unrouted):8.1f} us per recipient")


if __name__ == "__main__":
    main()
