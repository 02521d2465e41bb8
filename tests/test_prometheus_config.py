"""The sample Prometheus scrape config and alert rules in deploy/prometheus: valid for promtool,
alert unit tests pass, and every metric they name is one the app exports."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.metrics_helpers import AUTH, TOKEN

DIR = Path(__file__).resolve().parents[1] / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool missing (Debian: apt-get install prometheus; ./dev test installs it)")


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


@needs_promtool
def test_promtool_accepts_the_scrape_config(tmp_path):
    for name in ("prometheus.yml", "alerts.yml"):
        shutil.copy(DIR / name, tmp_path / name)
    (tmp_path / "hotline-metrics-token").write_text("a-token\n")   # the file the config points at
    done = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_promtool_accepts_the_rules_and_their_unit_tests_pass():
    done = promtool("check", "rules", "alerts.yml", cwd=DIR)
    assert done.returncode == 0, done.stdout + done.stderr
    done = promtool("test", "rules", "alerts.test.yml", cwd=DIR)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_rules_cover_what_an_operator_must_hear_about():
    rules = [r for g in yaml.safe_load((DIR / "alerts.yml").read_text())["groups"] for r in g["rules"]]
    assert all({"alert", "expr", "labels", "annotations"} <= set(r) for r in rules)
    assert {"HotlineDown", "HotlineLineNotAnswering", "HotlineSpoolGrowing", "HotlineSmsFailures",
            "HotlineWorkerMissing"} <= {r["alert"] for r in rules}


def test_every_metric_the_rules_name_is_exported(voice_app, monkeypatch):
    monkeypatch.setenv("HOTLINE_METRICS_TOKEN", TOKEN)
    va = voice_app()
    call = va.call()
    call.start()
    call.hang_up()
    text = va.client.get("/metrics", headers=AUTH).get_data(as_text=True)
    exported = set(re.findall(r"^(?:# HELP )?(hotline_\w+)", text, re.M))   # families with no sample yet too
    named = set(re.findall(r"\bhotline_\w+", (DIR / "alerts.yml").read_text()))
    assert named and named <= exported, sorted(named - exported)
