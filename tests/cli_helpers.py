"""Running `hotline` in-process as an admin would, for the CLI tests."""
from __future__ import annotations

from ivr.cli import main


def hotline(capsys, *argv: str, code: int) -> tuple[str, str]:
    """Run `hotline argv` in-process; assert the exit code and no traceback; return (out, err)."""
    got = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert got == code, (got, out, err)
    return out, err
