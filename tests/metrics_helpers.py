"""Reading a /metrics answer in tests."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "metrics-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def samples(text: str) -> dict:
    """Return {(sample name, frozenset of label pairs): value} from Prometheus text."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(found: dict, name: str, **labels) -> float:
    """Return one sample's value (0 when absent: a counter nobody touched yet)."""
    return found.get((name, frozenset(labels.items())), 0.0)
