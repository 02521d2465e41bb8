"""The week picture (ivr.week_svg): true day lengths, named days, route colours, and `hotline schedule --svg`."""
from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from ivr import week_svg
from ivr.cli import main
from ivr.config import load_config
from routing.timeline import segments
from tests.support.voice import EXAMPLES

BRONDBY = next(p for p in EXAMPLES if p.name == "brondby.yaml")
OREBRO = next(p for p in EXAMPLES if p.name == "orebro.yaml")
SVG = "{http://www.w3.org/2000/svg}"


def _days(svg: str) -> list[tuple[float, float]]:
    """Return (x, width) of the seven day columns."""
    root = ET.fromstring(svg)
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("y") == "30" and r.get("stroke") == "#d0d7de"]
    return [(float(r.get("x")), float(r.get("width"))) for r in rects]


def test_christmas_week_names_juledag_and_the_eve():
    hotline = load_config(BRONDBY).lines()[0]
    svg = week_svg.render(hotline, dt.date(2026, 12, 21))
    ET.fromstring(svg)  # well-formed
    assert "Juledag" in svg and "eve of Juledag" in svg and "Anden juledag" in svg


def test_days_when_clocks_change_are_drawn_23_and_25_hours_wide():
    hotline = load_config(OREBRO).lines()[0]
    spring = _days(week_svg.render(hotline, dt.date(2026, 3, 23)))
    autumn = _days(week_svg.render(hotline, dt.date(2026, 10, 19)))
    assert len(spring) == len(autumn) == 7
    assert abs(spring[6][1] / spring[0][1] - 23 / 24) < 0.001
    assert abs(autumn[6][1] / autumn[0][1] - 25 / 24) < 0.001
    assert "(23 h)" in week_svg.render(hotline, dt.date(2026, 3, 23))
    assert "(25 h)" in week_svg.render(hotline, dt.date(2026, 10, 19))


def test_every_segment_is_drawn_in_its_route_kinds_colour():
    hotline = load_config(BRONDBY).lines()[0]
    monday = dt.date(2026, 11, 23)
    svg = week_svg.render(hotline, monday)
    start = dt.datetime.combine(monday, dt.time(), hotline.tz)
    for service in hotline.plan.services.values():
        for seg in segments(hotline.plan, service.id, start, start + dt.timedelta(days=7)):
            tip = f"{service.name}: {seg.start:%a %H:%M}-{seg.end:%a %H:%M} {seg.target.name}"
            found = re.search(re.escape(tip) + r".*?fill=\"(#[0-9a-f]{6})\"", svg)
            assert found and found.group(1) == week_svg.COLOURS[seg.target.kind], tip


def test_the_now_line_is_drawn_only_inside_the_week():
    hotline = load_config(BRONDBY).lines()[0]
    inside = dt.datetime(2026, 12, 24, 21, 0, tzinfo=dt.timezone.utc)
    assert "now 22:00" in week_svg.render(hotline, dt.date(2026, 12, 21), inside)
    assert "now-line" not in week_svg.render(hotline, dt.date(2026, 12, 28), inside)


def test_schedule_svg_writes_the_same_picture(tmp_path, capsys):
    out = tmp_path / "week.svg"
    assert main(["schedule", "--config", str(BRONDBY), "--week", "2026-W52", "--svg", str(out)]) == 0
    hotline = load_config(BRONDBY).lines()[0]
    assert out.read_text(encoding="utf-8") == week_svg.render(hotline, dt.date(2026, 12, 21)) + "\n"
    assert main(["schedule", "--config", str(BRONDBY), "--week", "2026-W52", "--weeks", "2",
                 "--svg", str(tmp_path / "w.svg")]) == 0
    assert (tmp_path / "w-1.svg").exists() and (tmp_path / "w-2.svg").exists()


def test_schedule_svg_to_an_unwritable_place_fails_in_one_line(tmp_path, capsys):
    assert main(["schedule", "--config", str(BRONDBY), "--week", "2026-W52",
                 "--svg", str(tmp_path / "missing" / "w.svg")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("hotline: cannot write") and "Traceback" not in err
