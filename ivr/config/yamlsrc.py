"""YAML reading that remembers the line of every field, and avoids YAML 1.1 surprises.

Only true/false, null, decimal integers and plain floats are typed; everything else stays a string,
so "15:30" is not 930, "NO" is not False and "2026-12-24" is not a date object.

Hostile input ends in a YamlProblem, quickly: nesting deeper than MAX_DEPTH (instead of a
RecursionError), more than MAX_NODES values once aliases are expanded (a 1 KB "billion laughs"
file would otherwise take gigabytes), control characters, and explicit tags that do not fit.
"""
from __future__ import annotations

import re

import yaml

Path = tuple[str | int, ...]
MAX_DEPTH = 40          # the examples nest at most 12 levels
MAX_NODES = 20_000      # values after expanding aliases; the largest example has about 230


class YamlProblem(Exception):
    """A YAML syntax problem or a duplicate key, with its line."""

    def __init__(self, line: int | None, path: Path, message: str):
        self.line, self.path, self.message = line, path, message
        super().__init__(message)


class _Loader(yaml.SafeLoader):
    yaml_implicit_resolvers: dict = {}

    def __init__(self, stream):
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent, index):
        """Compose as PyYAML does, refusing nesting deeper than MAX_DEPTH before recursing."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise YamlProblem(self.peek_event().start_mark.line + 1, (),
                                  f"nested more than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


for _tag, _regexp, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9]*)$", list("-+0123456789")),
    ("tag:yaml.org,2002:float", r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$", list("-+.0123456789")),
):
    _Loader.add_implicit_resolver(_tag, re.compile(_regexp), _first)


def load(text: str) -> tuple[object, dict[Path, int]]:
    """Return (data, lines) where lines maps each field path to its 1-based line.

    Raises YamlProblem for syntax errors, duplicate mapping keys, control characters, too deep
    nesting and too many values.
    """
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise YamlProblem(line, (), f"character U+{exc.character:04X} is not allowed in a YAML file "
                                    "(a control character: remove it)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise YamlProblem(line, (), f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    lines: dict[Path, int] = {}
    if node is None:
        return {}, lines
    try:
        return _convert(node, (), lines, [0]), lines
    finally:
        _CONSTRUCTOR.constructed_objects.clear()   # the shared constructor would keep every node
        _CONSTRUCTOR.recursive_objects.clear()


def _convert(node: yaml.Node, path: Path, lines: dict[Path, int], count: list[int]) -> object:
    """Return the plain value of `node`; `count` counts every value made (aliases expand)."""
    count[0] += 1
    if count[0] > MAX_NODES:
        raise YamlProblem(node.start_mark.line + 1, path[:4], f"more than {MAX_NODES} values once aliases (*name) "
                                                          "are expanded: a hotline file has a few hundred")
    if len(path) > MAX_DEPTH:
        raise YamlProblem(node.start_mark.line + 1, path[:4],
                          f"nested more than {MAX_DEPTH} levels deep (an alias inside its own anchor?)")
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            key = str(key) if key is not None else "null"
            child = path + (key,)
            if key in out:
                raise YamlProblem(key_node.start_mark.line + 1, child, f"key {key!r} is given twice")
            lines[child] = key_node.start_mark.line + 1
            out[key] = _convert(value_node, child, lines, count)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (i,), lines, count) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> object:
    if not isinstance(node, yaml.ScalarNode):
        raise YamlProblem(node.start_mark.line + 1, (), "a key must be a plain value")
    try:
        return _CONSTRUCTOR.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        reason = getattr(exc, "problem", None) or exc
        raise YamlProblem(node.start_mark.line + 1, (), f"{node.value!r} cannot be read as {node.tag}: {reason}") from None


_CONSTRUCTOR = _Loader("")


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """Return the line of `path`, or of its nearest ancestor that has one."""
    for cut in range(len(path), -1, -1):
        found = lines.get(tuple(path[:cut]))
        if found is not None:
            return found
    return None


def dotted(path: Path) -> str:
    """Return a path as people write it: services.nexus.rules[0].target."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
