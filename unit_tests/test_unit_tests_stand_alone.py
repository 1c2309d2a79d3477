"""Unit tests stand alone: nothing in unit_tests/ imports integration_tests (its local server, harness
or scans). A test that needs the local server belongs in integration_tests/."""

import ast
from pathlib import Path
from typing import Iterator

UNIT_TESTS = Path(__file__).parent


def imported_modules(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_given_the_unit_tests_when_their_imports_are_read_then_none_comes_from_integration_tests():
    offending = sorted(
        f"{path.relative_to(UNIT_TESTS.parent)} imports {module}"
        for path in UNIT_TESTS.rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] == "integration_tests"
    )

    assert not offending, "unit tests must not need integration_tests:\n" + "\n".join(offending)
