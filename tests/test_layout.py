"""How the test suite is laid out: shared helpers live in tests/helpers.py (or conftest fixtures), one
import style (`from tests.x import`), and no test module imports another test module."""

from __future__ import annotations

import re

from tests.helpers import REPO

TESTS = REPO / "tests"
SIBLINGS = {path.stem for path in TESTS.glob("*.py")}
IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", re.M)


def imports() -> list[tuple[str, str]]:
    """(test file, imported module) for every import statement in tests/*.py."""
    found = []
    for path in sorted(TESTS.glob("*.py")):
        for match in IMPORT.finditer(path.read_text()):
            found.append((path.name, match.group(1) or match.group(2)))
    return found


def test_no_test_module_imports_another() -> None:
    offenders = [(f, m) for f, m in imports() if m.removeprefix("tests.").startswith("test_")]
    assert offenders == [], "move shared helpers to tests/helpers.py or a conftest fixture"


def test_test_support_modules_are_imported_as_tests_x() -> None:
    bare = [(f, m) for f, m in imports() if m in SIBLINGS]
    assert bare == [], "import test support modules as `from tests.<module> import ...`"


def test_the_checks_see_what_they_guard() -> None:
    """Control: the patterns find both kinds of offence in text built to contain them."""
    text = "from tests.test_rule_schemas import context\n    from helpers import write\n"
    modules = [m.group(1) or m.group(2) for m in IMPORT.finditer(text)]
    assert modules == ["tests.test_rule_schemas", "helpers"]
