"""A loaded hotline: everything one config file says, as frozen typed objects."""
from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ivr.incidents.model import NotifyPolicy
from ivr.menus.model import Menu
from ivr.outages.model import OutagePolicy
from ivr.probe.model import ProbePolicy
from routing import Plan
from schedules import HolidayCalendar, Schedule


@dataclass(frozen=True)
class Contact:
    """A person or desk that can be dialled; `number` is E.164."""

    id: str
    name: str
    number: str


@dataclass(frozen=True)
class Site:
    """A site phone that receives outage SMS; `number` is E.164."""

    group: str
    name: str
    number: str


@dataclass(frozen=True)
class Hotline:
    """One hotline, named by its first inbound number (E.164)."""

    numbers: tuple[str, ...]
    name: str
    country: str
    subdivision: str | None
    tz: ZoneInfo
    language: str
    voice: str
    fallback: str
    calendar: HolidayCalendar
    schedules: dict[str, Schedule] = field(hash=False)
    plan: Plan = field(hash=False)
    menu: Menu = field(hash=False)
    contacts: dict[str, Contact] = field(hash=False)
    systems: dict[str, str] = field(hash=False)
    sites: dict[str, tuple[Site, ...]] = field(hash=False)
    source: str = ""
    version: str = ""
    outages: OutagePolicy | None = field(default=None, hash=False)
    warnings: tuple[str, ...] = ()     # from ivr.config.lint, as "file:line: field: message"
    call_log_days: int = 90
    caller_id: str = "hotline"
    notify: NotifyPolicy | None = field(default=None, hash=False)   # who hears of missed calls
    probe: ProbePolicy | None = field(default=None, hash=False)

    @property
    def line(self) -> str:
        """Return the hotline's name: its first inbound number in E.164."""
        return self.numbers[0]

    def all_sites(self, groups: list[str] | None = None) -> list[Site]:
        """Return site phones of the given groups (all groups when None), each number once."""
        seen: set[str] = set()
        out: list[Site] = []
        for group, sites in self.sites.items():
            if groups is not None and group not in groups:
                continue
            for site in sites:
                if site.number not in seen:
                    seen.add(site.number)
                    out.append(site)
        return out
