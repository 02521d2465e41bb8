"""schedules/ and routing/ stay pure: no web, Redis, RQ or Twilio imports, and no clock reads."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"flask", "redis", "rq", "twilio", "ivr", "werkzeug", "requests", "gunicorn"}
CLOCK_READS = {"now", "today", "utcnow", "monotonic", "perf_counter", "time_ns"}
PURE_FILES = sorted((ROOT / "schedules").rglob("*.py")) + sorted((ROOT / "routing").rglob("*.py"))


@pytest.mark.parametrize("path", PURE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr, owner = node.func.attr, node.func.value
            is_time_time = attr == "time" and isinstance(owner, ast.Name) and owner.id == "time"
            assert attr not in CLOCK_READS and not is_time_time, f"{path.name} reads the clock: .{attr}()"


def test_the_rule_catches_an_offender(tmp_path):
    offender = tmp_path / "bad.py"
    offender.write_text("import flask\nimport datetime\nx = datetime.datetime.now()\n")
    with pytest.raises(AssertionError):
        test_pure_module(offender)


def test_there_are_pure_files():
    assert len(PURE_FILES) >= 8
