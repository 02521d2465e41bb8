"""Load one hotline file or a directory of them; all or nothing."""
from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from ivr.config.build import Builder
from ivr.config.errors import ConfigError, ConfigErrors
from ivr.config.lint import warnings_for
from ivr.config.schema import HotlineSpec
from ivr.config.source import SourceProblem, read_text
from ivr.config.yamlsrc import YamlProblem, dotted, line_of, load
from ivr.hotline import Hotline
from ivr.numbers import candidates

DEFAULT_NAME = "embedded default (ivr/defaults/demo.yaml)"


@dataclass(frozen=True)
class Config:
    """Every hotline of a deployment, by each of its inbound numbers; `version` hashes all files."""

    hotlines: dict[str, Hotline] = field(hash=False)
    version: str
    source: str

    def lines(self) -> list[Hotline]:
        """Return each hotline once, in the order they were loaded."""
        seen: dict[str, Hotline] = {}
        for hotline in self.hotlines.values():
            seen.setdefault(hotline.line, hotline)
        return list(seen.values())

    def find(self, number: str | None) -> Hotline | None:
        """Return the hotline called on `number` (any of its inbound numbers, as E.164 or as
        dialled in one of the hotlines' countries), or None."""
        found = self.hotlines.get(number or "")
        if found is None and number:
            countries = tuple(sorted({h.country for h in self.hotlines.values()}))
            found = next((self.hotlines[c] for c in candidates(number, countries) if c in self.hotlines), None)
        return found


def load_text(text: str, source: str) -> Hotline:
    """Return the hotline described by YAML `text`; raises ConfigErrors naming `source`."""
    version = hashlib.sha256(text.encode()).hexdigest()[:12]
    try:
        data, lines = load(text)
    except YamlProblem as exc:
        raise ConfigErrors([ConfigError(source, exc.line, dotted(exc.path), exc.message)]) from None
    if data is None or data == {}:
        raise ConfigErrors([ConfigError(source, None, "", "the file is empty (a hotline file is a mapping: "
                                                          "hotline:, menu:, ...)")])
    if not isinstance(data, dict):
        raise ConfigErrors([ConfigError(source, 1, "", "a hotline file is a mapping (hotline:, menu:, ...)")])
    try:
        spec = HotlineSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigErrors(_pydantic_errors(exc, source, lines)) from None
    builder = Builder(spec, source, version)
    hotline = builder.build()
    if hotline is None:
        raise ConfigErrors([
            ConfigError(source, line_of(lines, path), dotted(path), message) for path, message in builder.problems
        ])
    warnings = tuple(
        str(ConfigError(source, line_of(lines, path), dotted(path), message))
        for path, message in warnings_for(spec, hotline.contacts)
    )
    return dataclasses.replace(hotline, warnings=warnings) if warnings else hotline


def _pydantic_errors(exc: ValidationError, source: str, lines: dict) -> list[ConfigError]:
    out: list[ConfigError] = []
    seen: set[str] = set()
    for err in exc.errors():
        loc = tuple(err["loc"])
        known = loc
        while known and known not in lines and err["type"] != "missing":
            known = known[:-1]
        path = dotted(loc if err["type"] in ("missing", "extra_forbidden") else known)
        if path in seen:
            continue
        seen.add(path)
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see docs/config.md)"
        out.append(ConfigError(source, line_of(lines, loc), path, message))
    return out


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Load a file or a directory of *.yaml files (the embedded default when `path` is None).

    Raises ConfigErrors listing every problem in every file (unreadable bytes included); nothing
    half-loads.
    """
    unreadable: list[ConfigError] = []
    sources: list[tuple[str, str | None]]
    if path is None:
        text = resources.files("ivr.defaults").joinpath("demo.yaml").read_text(encoding="utf-8")
        sources = [(DEFAULT_NAME, text)]
        where = DEFAULT_NAME
    else:
        root = Path(path)
        if root.is_dir():
            files = sorted(p for p in root.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
            if not files:
                raise ConfigErrors([ConfigError(str(root), None, "", "no .yaml files in this directory")])
        elif root.is_file():
            files = [root]
        else:
            what = "not a file or a directory" if root.exists() else "no such file or directory"
            raise ConfigErrors([ConfigError(str(root), None, "", what)])
        sources = []
        for file in files:
            try:
                sources.append((str(file), read_text(file)))
            except SourceProblem as exc:
                sources.append((str(file), None))
                unreadable.append(ConfigError(str(file), exc.line, "", exc.message))
        where = str(root)
    errors: list[ConfigError] = list(unreadable)
    hotlines: dict[str, Hotline] = {}
    digest = hashlib.sha256()
    for name, text in sources:
        if text is None:
            continue
        digest.update(text.encode())
        try:
            hotline = load_text(text, name)
        except ConfigErrors as exc:
            errors.extend(exc.errors)
            continue
        except Exception as exc:  # noqa: BLE001 - any file content must end in a refusal, never a crash
            errors.append(ConfigError(name, None, "", f"could not be loaded ({type(exc).__name__}: {exc})"))
            continue
        for number in hotline.numbers:
            other = hotlines.get(number)
            if other is not None:
                errors.append(ConfigError(name, None, "hotline.numbers",
                                          f"{number} is already the number of {other.source}"))
            hotlines[number] = hotline
    if errors:
        raise ConfigErrors(errors)
    return Config(hotlines=hotlines, version=digest.hexdigest()[:12], source=where)


def config_from_env() -> Config:
    """Load from HOTLINE_CONFIG, or the embedded default when it is unset or empty."""
    return load_config(os.environ.get("HOTLINE_CONFIG") or None)
