"""Manifest text that test docstrings quote is the manifest's own, so a test never explains itself
with a condition the connector no longer has.

The convention, in the docstrings and comments of unit_tests/ and integration_tests/: a line on
which the word "manifest" is followed by a colon and a space marks manifest quotes. Every span in
backticks after it, on that line, is one quote, and must occur in source_meetlog/manifest.yaml as
whole words (runs of whitespace, YAML's indentation and line breaks included, compare as one space).
A quote opens and closes on its line; a block quoted whole reads as the manifest's lines joined,
e.g. the key `unreadable_detail_body: type: HttpResponseFilter` and so on. Prose and the sums a
test works through go on the lines around it, unmarked.
"""

import ast
import io
import re
import tokenize
from pathlib import Path
from typing import Iterator, List, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "source_meetlog" / "manifest.yaml"
QUOTING_FOLDERS = ("unit_tests", "integration_tests")
# Not `manifest:` inside backticks (prose about the convention) nor `the_manifest:` (a name).
MARKER = re.compile(r"(?<![\w`])manifest: ", re.IGNORECASE)
QUOTE = re.compile(r"`([^`]+)`")


class Quote(NamedTuple):
    path: Path
    line: int
    text: str
    problem: str = ""  # set when the marked line holds no whole quote

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path}:{self.line}"


def normalised(text: str) -> str:
    return " ".join(text.split())


def occurs(quote: str, manifest: str) -> bool:
    """Whole words only: `max_retries: 5` is not in `max_retries: 50`."""
    quote = normalised(quote)
    start = r"(?<!\w)" if re.match(r"\w", quote) else ""
    end = r"(?!\w)" if re.search(r"\w$", quote) else ""
    return re.search(start + re.escape(quote) + end, manifest) is not None


def _prose_lines(source: str) -> Iterator[tuple]:
    """(line number, text) of every docstring line and every comment of a Python source."""
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                for number in range(first.lineno, first.end_lineno + 1):
                    yield number, lines[number - 1]
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string


def marked_quotes(path: Path) -> List[Quote]:
    """Every manifest quote of one file; a marked line without whole quotes comes back as a problem."""
    found = []
    for number, text in _prose_lines(path.read_text(encoding="utf-8")):
        marker = MARKER.search(text)
        if not marker:
            continue
        rest = text[marker.end():]
        quotes = QUOTE.findall(rest)
        if rest.count("`") % 2 or not quotes:
            found.append(Quote(path, number, text.strip(), problem="a marked line needs whole quotes in backticks"))
        found += [Quote(path, number, quote) for quote in quotes]
    return found


def stale(quotes: List[Quote], manifest_text: str) -> List[str]:
    """One line per quote the manifest does not hold, or marked line that holds no whole quote."""
    manifest = normalised(manifest_text)
    problems = []
    for quote in quotes:
        if quote.problem:
            problems.append(f"{quote.where()}: {quote.problem}: {quote.text!r}")
        elif not occurs(quote.text, manifest):
            problems.append(f"{quote.where()}: `{quote.text}` is not in source_meetlog/manifest.yaml")
    return problems


def all_quotes() -> List[Quote]:
    return [quote for folder in QUOTING_FOLDERS for path in sorted((ROOT / folder).rglob("*.py")) for quote in marked_quotes(path)]


def test_given_the_tests_docstrings_when_their_manifest_quotes_are_read_then_each_is_in_the_manifest():
    problems = stale(all_quotes(), MANIFEST.read_text(encoding="utf-8"))

    assert not problems, "Manifest quotes that the manifest does not hold (fix the docstring, or the manifest):\n" + "\n".join(problems)


def test_given_the_suites_that_explain_themselves_by_the_manifest_then_their_quotes_are_marked():
    """A convention nobody follows checks nothing: the docstrings that quote the manifest use it."""
    quoting = {quote.path.relative_to(ROOT).as_posix() for quote in all_quotes()}

    assert {
        "unit_tests/integration/suite.py",
        "unit_tests/integration/incremental_suite.py",
        "unit_tests/integration/test_project_transcripts.py",
        "integration_tests/test_full_refresh.py",
    } <= quoting


def test_given_a_quote_the_manifest_lacks_then_the_failure_names_the_file_the_line_and_the_quote(tmp_path):
    written = tmp_path / "test_example.py"
    written.write_text(
        'def test_x():\n'
        '    """Retried.\n'
        '    manifest: `action: RETRY`, `stop_condition: "{{ response.meta.page >= 3 }}"`, `max_retries: 7`\n'
        '    """\n'
        '    # manifest: `http_codes: [401]`, and an open `quote\n'
    )

    problems = stale(marked_quotes(written), MANIFEST.read_text(encoding="utf-8"))

    assert problems == [
        f'{written}:3: `stop_condition: "{{{{ response.meta.page >= 3 }}}}"` is not in source_meetlog/manifest.yaml',
        f"{written}:3: `max_retries: 7` is not in source_meetlog/manifest.yaml",
        f"{written}:5: a marked line needs whole quotes in backticks: '# manifest: `http_codes: [401]`, and an open `quote'",
    ]
