"""The `$ hotline ...` examples pasted in README.md and docs/*.md are what the commands print.

Each fenced block with a `$ hotline ...` line is run in-process (ivr.cli.main) from a directory where
`examples/` is the repository's and the files of FIXTURES exist, and its output (stdout, then stderr,
then `exit N` for a command ending in `; echo "exit $?"`) must equal the lines below the command.
A line that is only `...` stands for any number of lines (an abridged output). In a `hotline call`
transcript, what follows a prompt's `> ` is typed in, as a user would.

Only commands whose output cannot depend on the clock, Redis or Twilio are run: `check`, `route` and
`call` with `--at`, `schedule` with `--week`. Any other block must be marked by the line before its
fence: `<!-- not checked: the reason -->`; an unmarked block that cannot be run fails.
"""
from __future__ import annotations

import difflib
import io
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ivr.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SKIP_MARKER = re.compile(r"^<!--\s*not checked:\s*(\S.*?)\s*-->$")
PROGRAMS = ("hotline", ".venv/bin/hotline", "python -m ivr.cli", "python3 -m ivr.cli")
ECHO_EXIT = re.compile(r""";\s*echo\s+["']?exit \$\?["']?\s*$""")
PROMPT = re.compile(r"^(?P<prompt>.*hang up > )(?P<typed>.*)$")  # the prompts of `hotline call`
WILDCARD = "..."

# Files the examples name that are not in the repository: (made from, [(text, replaced by), ...]).
FIXTURES = {
    "broken.yaml": ("examples/brondby.yaml", [
        ('number: "4328 2020"', 'number: "4328 20"'),
        ("{while: nexus_team_hours, target: nexus_team}", "{while: nexus_hours, target: nexus_team}"),
    ]),
}


@dataclass
class Example:
    """One `$ ` command of a doc block and the output pasted under it."""

    where: str          # "README.md:123" (the line of the command)
    command: str
    expected: list[str]
    skip: str | None = None   # the marker's reason
    block: list[str] = field(default_factory=list)


def hotline_args(command: str) -> tuple[list[str], bool] | None:
    """Return (the argv after the program, whether `; echo "exit $?"` follows), or None when the
    command does not run the hotline CLI."""
    echo = bool(ECHO_EXIT.search(command))
    command = ECHO_EXIT.sub("", command).strip()
    for program in PROGRAMS:
        if command == program or command.startswith(program + " "):
            return shlex.split(command[len(program):]), echo
    return None


def examples_in(text: str, name: str) -> list[Example]:
    """Return every `$ hotline ...` command in the fenced blocks of markdown `text`."""
    lines = text.splitlines()
    found: list[Example] = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith("```"):
            i += 1
            continue
        start = i
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), len(lines))
        block = lines[start + 1:end]
        before = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        marker = SKIP_MARKER.match(before)
        current: Example | None = None
        for offset, line in enumerate(block):
            if line.startswith("$ "):
                current = None
                if hotline_args(line[2:]) is not None:
                    current = Example(f"{name}:{start + 2 + offset}", line[2:], [],
                                      marker.group(1) if marker else None, block)
                    found.append(current)
            elif current is not None:
                current.expected.append(line)
        i = end + 1
    return found


def why_not_checkable(argv: list[str]) -> str | None:
    """Return why a command's output could vary from run to run, or None when it cannot."""
    command = argv[0] if argv else ""
    if command == "check":
        return None
    if command in ("route", "call") and "--at" not in argv:
        return f"`hotline {command}` without --at depends on the clock"
    if command == "call" and "--url" in argv:
        return "`hotline call --url` needs a running server"
    if command in ("route", "call"):
        return None
    if command == "schedule":
        return None if "--week" in argv else "`hotline schedule` without --week depends on the clock"
    return f"`hotline {command}` needs Redis, Twilio or the clock"


def matches(expected: list[str], actual: list[str]) -> bool:
    """Return True when `actual` equals `expected`, a `...` line standing for any lines."""
    pattern = "".join(r"(?:[^\n]*\n)*?" if line.strip() == WILDCARD else re.escape(line) + r"\n"
                      for line in expected)
    return re.fullmatch(pattern, "".join(line + "\n" for line in actual)) is not None


def tidy(text: str) -> list[str]:
    """Return `text` as lines without trailing spaces and without blank lines at the end."""
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def typed_and_transcript(expected: list[str]) -> tuple[str, list[str]]:
    """For a `hotline call` transcript return (what the user typed, one line per Enter, and the
    output as the program prints it: the prompt and the next line on one line)."""
    typed, shown = [], []
    joined = False
    for line in expected:
        if joined:
            shown[-1] += line
            joined = False
        else:
            shown.append(line)
        prompt = PROMPT.match(line)
        if prompt:
            typed.append(prompt.group("typed"))
            shown[-1] = shown[-1][: len(shown[-1]) - len(line)] + prompt.group("prompt")
            joined = True
    return "".join(t + "\n" for t in typed), shown


def run_example(example: Example, workdir: Path, monkeypatch, capsys) -> tuple[list[str], list[str]]:
    """Run one example in `workdir`; returns (expected lines, actual lines)."""
    argv, echo = hotline_args(example.command)
    expected = [line.rstrip() for line in example.expected]
    while expected and not expected[-1]:
        expected.pop()
    stdin = ""
    if argv[0] == "call":
        stdin, expected = typed_and_transcript(expected)
    monkeypatch.chdir(workdir)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse refusing the arguments
        code = exc.code
    out, err = capsys.readouterr()
    actual = tidy(out + err) + ([f"exit {code}"] if echo else [])
    return expected, actual


def expand_wildcards(expected: list[str], actual: list[str]) -> list[str]:
    """Return `expected` with each `...` line replaced by the actual lines it stands for, where
    the lines around it can be found in order; so a diff shows only what really differs."""
    segments: list[list[str]] = [[]]
    for line in expected:
        if line.strip() == WILDCARD:
            segments.append([])
        else:
            segments[-1].append(line)
    out, at = list(segments[0]), len(segments[0])
    for number, segment in enumerate(segments[1:], 2):
        last = number == len(segments)
        starts = [len(actual) - len(segment)] if last else range(at, len(actual) - len(segment) + 1)
        scored = [(sum(a == b for a, b in zip(actual[i:], segment)), -i) for i in starts if i >= at]
        best = max(scored, default=(0, 0))
        if best[0] == 0:
            out += [WILDCARD, *segment]
            at = len(actual) + 1  # lost the thread: leave the rest as written
        else:  # where most of the segment's lines are (the first such place)
            out += [*actual[at:-best[1]], *segment]
            at = -best[1] + len(segment)
    return out


def failure(example: Example, expected: list[str], actual: list[str]) -> str:
    shown = expand_wildcards(expected, actual)
    diff = "\n".join(difflib.unified_diff(shown, actual, "pasted in the doc", "printed now", lineterm=""))
    return (f"{example.where}: the output pasted under `$ {example.command}` is not what it prints now "
            f"(a '{WILDCARD}' line in the doc stands for any lines). Update the doc:\n{diff}")


EXAMPLES = [example for doc in DOCS for example in examples_in(doc.read_text(encoding="utf-8"), doc.name)]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A directory with the repository's examples/ and the FIXTURES, and a clean environment."""
    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    for name, (source, edits) in FIXTURES.items():
        text = (ROOT / source).read_text(encoding="utf-8")
        for old, new in edits:
            assert text.count(old) == 1, f"FIXTURES[{name!r}]: {old!r} must occur once in {source}"
            text = text.replace(old, new)
        (tmp_path / name).write_text(text, encoding="utf-8")
    for name in ("HOTLINE_CONFIG", "REDIS_URL", "TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOTLINE_SPOOL_DIR", str(tmp_path / "spool"))
    return tmp_path


def check(example: Example, workdir: Path | None, monkeypatch, capsys) -> None:
    """Fail the test (with a diff) unless the example prints what is pasted under it."""
    argv, _ = hotline_args(example.command)
    reason = why_not_checkable(argv)
    if reason is not None:
        pytest.fail(f"{example.where}: `$ {example.command}` cannot be checked ({reason}); make it "
                    "deterministic or put `<!-- not checked: REASON -->` on the line before its block", pytrace=False)
    expected, actual = run_example(example, workdir, monkeypatch, capsys)
    if not matches(expected, actual):
        pytest.fail(failure(example, expected, actual), pytrace=False)


@pytest.mark.parametrize("example", [e for e in EXAMPLES if not e.skip],
                         ids=lambda e: f"{e.where} {e.command.split(' --')[0]}")
def test_pasted_output_is_what_the_command_prints(example, workdir, monkeypatch, capsys):
    check(example, workdir, monkeypatch, capsys)


def test_every_block_left_unchecked_says_why():
    # Blocks marked `<!-- not checked: REASON -->` (they need a live Redis, a worker or the Twilio
    # stand-in) are the only ones not run above, and each names its reason.
    unchecked = [e for e in EXAMPLES if e.skip]
    assert all(len(e.skip.strip()) >= 10 for e in unchecked), [e.where for e in unchecked]


# -- the checker itself -----------------------------------------------------------------------


def test_the_readme_examples_are_found_and_most_are_checked():
    readme = [e for e in EXAMPLES if e.where.startswith("README.md:")]
    checked = [e for e in readme if not e.skip]
    assert {hotline_args(e.command)[0][0] for e in checked} >= {"check", "route", "schedule", "call"}
    assert len(checked) >= 6 and all(e.expected for e in checked)


SAMPLE = """Intro.

```
$ hotline check --config examples/brondby.yaml
config OK
```

<!-- not checked: needs a live Redis -->
```
$ hotline calls
started
```

```
$ hotline outage list
    1  open
$ echo something else
```
"""


def test_markers_skip_a_block_and_unmarked_blocks_that_cannot_run_fail():
    checked, calls, outage = examples_in(SAMPLE, "SAMPLE.md")
    assert (checked.where, checked.expected, checked.skip) == ("SAMPLE.md:4", ["config OK"], None)
    assert (calls.where, calls.skip) == ("SAMPLE.md:10", "needs a live Redis")
    assert outage.skip is None and outage.expected == ["    1  open"]
    assert why_not_checkable(hotline_args(outage.command)[0]) is not None
    with pytest.raises(pytest.fail.Exception, match=r"SAMPLE.md:15: .* cannot be checked"):
        check(outage, None, None, None)


def test_an_abridged_output_matches_and_a_drifted_one_fails_with_a_diff():
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "...", "b"], ["a", "b"])
    assert not matches(["a", "...", "d"], ["a", "b", "c"])
    assert not matches(["(options: 1, 2)"], ["(options: 1, 2, 9)"])
    example = Example("X.md:3", "hotline route --keys 5", [])
    message = failure(example, ["(options: 1, 2)"], ["(options: 1, 2, 9)"])
    assert "X.md:3" in message and "-(options: 1, 2)" in message and "+(options: 1, 2, 9)" in message
    # the abridged parts do not show up as differences, only the drifted line does
    message = failure(example, ["a", "...", "d", "(options: 1, 2)", "...", "z"],
                      ["a", "b", "c", "d", "(options: 1, 2, 9)", "x", "z"])
    changed = [line for line in message.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["-(options: 1, 2)", "+(options: 1, 2, 9)"]


def test_a_call_transcript_gives_the_typed_keys_and_the_printed_lines():
    typed, shown = typed_and_transcript(["Calling", "keys, q = hang up > 2", '  says: "x"',
                                         "  [a]nswer, q = hang up > r", "(the call ended)"])
    assert typed == "2\nr\n"
    assert shown == ["Calling", 'keys, q = hang up >   says: "x"', "  [a]nswer, q = hang up > (the call ended)"]
