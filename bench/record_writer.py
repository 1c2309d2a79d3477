"""CPU per RECORD line written: the CDK's AirbyteEntrypoint.airbyte_message_to_string against the
connector's, which keeps null fields (source_meetlog/cdk_internals.py, issue #10).

    .venv/bin/python -m bench.record_writer [--transcripts 2000] [--passes 15]

Both write the same transcript details (the seeded data set, nulls included) in this process; each
figure is the best of the passes, in process CPU time, so that the machine's other work weighs
as little as it can. Compare the difference with a whole sync's CPU per record (run_benchmarks).
"""

import argparse
import time

from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

from integration_tests.meetlog_server import build_dataset
from source_meetlog import cdk_internals


def best_cpu_per_message(write, messages, passes: int) -> float:
    best = float("inf")
    for _ in range(passes):
        start = time.process_time()
        for message in messages:
            write(message)
        best = min(best, (time.process_time() - start) / len(messages))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=int, default=2000)
    parser.add_argument("--passes", type=int, default=15)
    args = parser.parse_args()
    details = build_dataset(transcripts=args.transcripts, reports_per_transcript=0, projects=0).details("transcripts")
    messages = [
        AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream="transcripts", data=d, emitted_at=0))
        for d in details
    ]
    cdk = best_cpu_per_message(cdk_internals._CDK_MESSAGE_TO_STRING, messages, args.passes)
    connector = best_cpu_per_message(cdk_internals.message_to_string, messages, args.passes)
    print(f"{len(messages)} transcript records, best of {args.passes} passes, CPU per record: "
          f"CDK writer {cdk * 1e6:.2f} µs, connector's writer {connector * 1e6:.2f} µs "
          f"({(connector - cdk) * 1e6:+.2f} µs)")


if __name__ == "__main__":
    main()
