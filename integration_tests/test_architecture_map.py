"""docs/architecture.md's "Every stop, in order" is the trace of one transcript's read, not a drawing:
each package function the console script's read calls, in the order first called. The read runs on
several threads (the CDK's workers make the list and detail requests while the main thread writes
messages), so two stops of different threads may swap places between runs: the table must name the
same stops, each once, in the order of one traced run."""

import re
from pathlib import Path

from integration_tests.transcript_path import transcript_path

MAP = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"
ROW = re.compile(r"^\| (\d+) \| `([^`]+)` \| `([^`]+)` \|$")


def test_the_architecture_map_names_every_function_one_transcript_passes_in_the_order_it_passes_them():
    drawn = [(file, function) for number, file, function in
             (m.groups() for m in map(ROW.match, MAP.read_text().splitlines()) if m)]

    traced = transcript_path()

    assert sorted(drawn) == sorted(traced) and len(set(drawn)) == len(drawn), (
        "docs/architecture.md's table and the trace part: regenerate the rows with "
        "`.venv/bin/python -m integration_tests.transcript_path`.\n"
        f"only drawn: {sorted(set(drawn) - set(traced))}\nonly traced: {sorted(set(traced) - set(drawn))}")
    assert f"{len(traced)} functions in {len({f for f, _ in traced})} files" in MAP.read_text()
