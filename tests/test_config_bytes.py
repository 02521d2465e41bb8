"""Whatever bytes a config file holds, loading ends in a list of ConfigErrors (or a config), never a
traceback: a Latin-1 save, UTF-16, control characters, alias bombs, deep nesting, huge files."""
from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.cli import main
from ivr.config import ConfigErrors, load_config
from ivr.config.source import MAX_FILE_BYTES
from ivr.config.yamlsrc import MAX_DEPTH, MAX_NODES
from tests.examples import EXAMPLES

ROOT = Path(__file__).resolve().parents[1]
BRONDBY = (EXAMPLES / "brondby.yaml").read_text(encoding="utf-8")


def refused(path: Path):
    """Return the ConfigErrors that loading `path` raises."""
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    return caught.value.errors


def first_line_with(text: str, chars: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if any(c in line for c in chars))


def test_latin1_file_is_refused_with_the_line_of_the_first_bad_byte(tmp_path, capsys):
    path = tmp_path / "brondby.yaml"
    path.write_bytes(BRONDBY.encode("latin-1", errors="replace"))   # what a Windows editor may save
    (error,) = refused(path)
    assert error.file == str(path)
    assert error.line == first_line_with(BRONDBY, "æøåÆØÅ–")
    assert "not UTF-8" in error.message and "0xF8" in error.message and "save the file as UTF-8" in error.message
    assert main(["check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{error.line}:" in err and "Traceback" not in err


def test_utf16_file_is_refused_as_not_utf8(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_bytes(BRONDBY.encode("utf-16"))
    (error,) = refused(path)
    assert error.line == 1 and "UTF-16" in error.message and "save the file as UTF-8" in error.message


def test_utf8_with_a_byte_order_mark_loads(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_bytes(BRONDBY.encode("utf-8-sig"))
    assert load_config(path).lines()[0].name.startswith("Brøndby")


def test_control_character_is_refused_with_its_line(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text(BRONDBY.replace("Europe/Copenhagen", "Europe/Copen\x00hagen"), encoding="utf-8")
    (error,) = refused(path)
    assert error.line == next(n for n, line in enumerate(BRONDBY.splitlines(), 1) if "Europe/Copenhagen" in line)
    assert "U+0000" in error.message


def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("hotline: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    (error,) = refused(path)
    assert error.line == 1 and f"nested more than {MAX_DEPTH} levels" in error.message


def test_block_style_deep_nesting_is_refused_too(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("".join(f"{'  ' * i}k{i}:\n" for i in range(300)), encoding="utf-8")
    (error,) = refused(path)
    assert error.line == MAX_DEPTH and "nested" in error.message   # line 40 holds the 41st value


BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)) + "hotline: *a8\n"


def test_alias_bomb_is_refused_quickly_by_hotline_check(tmp_path):
    # Run in a child with 1 GB of address space and a time limit, so a loader without the limit
    # fails this test instead of eating the machine's memory.
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB, encoding="utf-8")
    assert len(BOMB) < 1100

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "ivr.cli", "check", "--config", str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, preexec_fn=limit)
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"more than {MAX_NODES} values" in done.stderr and "alias" in done.stderr
    assert "Traceback" not in done.stderr


def test_big_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text(BRONDBY + "#" * MAX_FILE_BYTES + "\n", encoding="utf-8")
    (error,) = refused(path)
    assert error.line is None and "larger than" in error.message


def test_unreadable_file_is_a_config_error(tmp_path, monkeypatch):
    path = tmp_path / "x.yaml"
    path.write_text(BRONDBY, encoding="utf-8")
    real_open = Path.open

    def refusing_open(self, *args, **kwargs):  # as a file without read permission (root reads any file)
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refusing_open)
    (error,) = refused(path)
    assert error.file == str(path) and "cannot be read" in error.message


@pytest.mark.parametrize("text", [
    "hotline: !!binary 'not base64 @@'\n",
    "hotline: !!python/object:os.system x\n",
    "hotline: !!int abc\n",
    "hotline: !!float abc\n",
    "hotline: !!timestamp 2026-99-99\n",
    "hotline: {? [a, b] : c}\n",
    "? !!set {a, b}\n: x\n",
    "hotline: *nowhere\n",
    "%YAML 9.9\n---\nhotline: x\n",
    "a: 1\n---\nb: 2\n",
    "hotline: &a [x, *a]\n",
])
def test_odd_yaml_is_a_config_error(tmp_path, text):
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    assert refused(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_bytes_end_in_a_config_or_config_errors(tmp_path, data):
    raw = bytearray(BRONDBY.encode("utf-8"))
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at:at + data.draw(st.integers(0, 3))] = data.draw(st.binary(max_size=4))
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(bytes(raw))
    try:
        load_config(path)
    except ConfigErrors as exc:
        assert all(str(e).startswith(str(path)) for e in exc.errors)
        # the loader's last-resort net (an unexpected exception) is never what answers
        assert not any("could not be loaded (" in e.message for e in exc.errors), exc.errors
