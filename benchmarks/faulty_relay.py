"""An aiosmtpd relay on 127.0.0.1 that misbehaves on purpose, for the pacing benchmark.

    .venv/bin/python benchmarks/faulty_relay.py PORT REPORT [--temporary 0.05] [--drop 0.01]
                                                [--refuse-for SECONDS]

`--temporary`: the share of transactions answered with a 4xx (at MAIL, RCPT or DATA);
`--drop`: the share whose connection is dropped; `--refuse-for`: answer 421 to every
command for that many seconds after start, then recover. On SIGTERM it writes to REPORT
one line per message received: the recipient.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.smtpd import Server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("report", type=Path)
    parser.add_argument("--temporary", type=float, default=0.0)
    parser.add_argument("--drop", type=float, default=0.0)
    parser.add_argument("--refuse-for", type=float, default=0.0)
    args = parser.parse_args()
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)  # the dropped connections are on purpose
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with Server(port=args.port) as server:
        server.faults(temporary=args.temporary, drop=args.drop, seed=9)
        if args.refuse_for:
            server.refuse_everything(args.refuse_for)
        print("ready", flush=True)
        done.wait(3600)
        recipients = server.handler.recipients()
    args.report.write_text("".join(f"{r}\n" for r in recipients), encoding="utf-8")


if __name__ == "__main__":
    main()
