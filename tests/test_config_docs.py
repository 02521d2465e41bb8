"""Every field an admin can write in a hotline file is explained in docs/config.md (or, for the
outages: section, docs/outages.md)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from ivr.config import outage_schema, schema

DOCS = Path(__file__).resolve().parents[1] / "docs"


def models(module) -> list[type[BaseModel]]:
    return [m for m in vars(module).values()
            if isinstance(m, type) and issubclass(m, schema.Strict) and m is not schema.Strict
            and m.__module__ == module.__name__]


def fields(module) -> list[tuple[str, str]]:
    return sorted({(m.__name__, f.alias or name) for m in models(module) for name, f in m.model_fields.items()})


def documented(name: str, text: str) -> bool:
    """True when `name:` appears as a YAML key or `name` in backticks."""
    return re.search(rf"(^|[\s{{,]){re.escape(name)}:", text, re.M) is not None or f"`{name}`" in text


@pytest.mark.parametrize("model, name", fields(schema))
def test_every_hotline_field_is_in_config_md(model, name):
    assert documented(name, (DOCS / "config.md").read_text(encoding="utf-8")), f"{model}.{name}"


@pytest.mark.parametrize("model, name", fields(outage_schema))
def test_every_outages_field_is_in_outages_md(model, name):
    assert documented(name, (DOCS / "outages.md").read_text(encoding="utf-8")), f"{model}.{name}"
