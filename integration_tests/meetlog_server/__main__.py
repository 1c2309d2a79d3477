"""Run the server by hand or for benchmarks in a separate process; Ctrl-C stops it.

    python -m integration_tests.meetlog_server --port 8765 --transcripts 20000 --rpm 0 --key tk_live_sample...

Prints the base URL and the keys on stderr. Keys given with --key get every scope on account
"acme", so a sample config can name a fixed key; without --key one random key is made.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .dataset import REPORTS_ORDERS
from .rate_limit import RETRY_AFTER_FORMATS
from .seed import build_dataset
from .server import MeetlogServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m integration_tests.meetlog_server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--transcripts", type=int, default=7)
    parser.add_argument("--reports-per-transcript", type=int, default=2)
    parser.add_argument("--projects", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rpm", type=int, default=60, help="requests per window per key; 0 = no limit")
    parser.add_argument("--window", type=float, default=60.0, help="rate-limit window in seconds")
    parser.add_argument("--retry-after-format", choices=RETRY_AFTER_FORMATS, default="seconds")
    parser.add_argument("--reports-order", choices=REPORTS_ORDERS, default="newest")
    parser.add_argument("--key", action="append", default=[], help="a fixed tk_live_ key (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    dataset = build_dataset(args.transcripts, args.reports_per_transcript, args.projects, args.seed)
    server = MeetlogServer(dataset, host=args.host, port=args.port, requests_per_window=args.rpm or None,
                           window_seconds=args.window, retry_after_format=args.retry_after_format,
                           reports_order=args.reports_order, verbose=args.verbose)
    keys = [server.add_key(key=key) for key in args.key] or [server.add_key()]
    server.start()
    print(f"Meetlog Export API on {server.base_url}", file=sys.stderr)
    for key in keys:
        print(f"key (acme, all scopes): {key}", file=sys.stderr)
    sys.stderr.flush()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop cleanly on kill, as on Ctrl-C
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
