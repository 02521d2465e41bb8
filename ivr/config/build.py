"""Turn a validated HotlineSpec into a Hotline: resolve names, parse numbers and hours.

Every problem is collected with its field path, so an admin sees them all at once.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from ivr.config import schema as s
from ivr.config.notify_build import build_notify
from ivr.config.outage_build import build_outages
from ivr.config.probe_build import build_probe
from ivr.digits import is_ascii_digits
from ivr.hotline import Contact, Hotline, Site
from ivr.menus.model import CodeEntry, Menu, Option, OptionKind
from routing import Exhausted, ExhaustedKind, Plan, RouteKind, Rule, Service, Step, Target
from schedules import DayOverride, DayPolicy, HolidayCalendar, Schedule, TimeOverride
from schedules.calendar import available_categories
from schedules.clock import WEEKDAYS, Window, parse_time, parse_weekdays, parse_window

Path = tuple[str | int, ...]
_DATE = re.compile(r"^(\d{4}-)?\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}$")
# Twilio language tags of the languages the fixed sentences are written in (ivr/voice/texts.py).
LANGUAGES = ("da-DK", "sv-SE", "en-AU", "en-CA", "en-GB", "en-IE", "en-IN", "en-NZ", "en-US", "en-ZA")
_DEFAULT_INVALID = {"da": "Det valg findes ikke.", "sv": "Det valet finns inte."}
_DEFAULT_TIMEOUT = {"da": "Vi hørte ikke noget valg.", "sv": "Vi hörde inget val."}


def _bad_date(text: str) -> str | None:
    """Return why "MM-DD" or "YYYY-MM-DD" is not a real date (02-29 is fine every year), else None."""
    try:
        if len(text) == 10:
            dt.date.fromisoformat(text)
        else:
            dt.date(2000, int(text[:2]), int(text[3:]))  # a leap year, so 02-29 is allowed
    except ValueError as exc:
        return f"{text!r} is not a date ({exc})"
    return None


class Builder:
    """Builds one hotline; `problems` collects (path, message) pairs instead of raising."""

    def __init__(self, spec: s.HotlineSpec, source: str, version: str):
        self.spec, self.source, self.version = spec, source, version
        self.problems: list[tuple[Path, str]] = []
        self.country = spec.hotline.country

    def fail(self, path: Path, message: str) -> None:
        self.problems.append((path, message))

    # -- numbers -------------------------------------------------------------------------------
    def number(self, text: str, path: Path) -> str:
        """Return `text` as E.164, parsed in the hotline's country ('' after recording a problem)."""
        try:
            parsed = phonenumbers.parse(text, self.country)
        except phonenumbers.NumberParseException as exc:
            self.fail(path, f"{text!r} is not a phone number ({exc})")
            return ""
        if not phonenumbers.is_valid_number(parsed):
            self.fail(path, f"{text!r} is not a valid phone number for {self.country}")
            return ""
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

    def party(self, ref: str, path: Path, contacts: dict[str, Contact]) -> tuple[str, str]:
        """Return (E.164, name) for a contact id or a literal number."""
        if ref in contacts:
            return contacts[ref].number, contacts[ref].name
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", ref):
            self.fail(path, f"unknown contact {ref!r} (known: {', '.join(sorted(contacts)) or 'none'})")
            return "", ref
        return self.number(ref, path), ref

    # -- the whole hotline ---------------------------------------------------------------------
    def build(self) -> Hotline | None:
        spec, line = self.spec, self.spec.hotline
        try:
            tz = ZoneInfo(line.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(("hotline", "timezone"), f"unknown time zone {line.timezone!r}")
            tz = ZoneInfo("UTC")
        numbers = tuple(self.number(n, ("hotline", "numbers", i)) for i, n in enumerate(line.numbers))
        language = self.language(line.language)
        calendar = self.calendar(line, language)
        contacts = {
            cid: Contact(cid, c.name, self.number(c.number, ("contacts", cid, "number")))
            for cid, c in spec.contacts.items()
        }
        fallback, _ = self.party(line.fallback, ("hotline", "fallback"), contacts)
        caller_id = line.caller_id if line.caller_id in ("hotline", "caller") else \
            self.number(line.caller_id, ("hotline", "caller_id"))
        schedules = {
            sid: self.schedule(sid, sch, tz, calendar) for sid, sch in spec.schedules.items()
        }
        targets = {tid: self.target(tid, t, contacts) for tid, t in spec.targets.items()}
        services = {
            sid: self.service(sid, svc, schedules, targets) for sid, svc in spec.services.items()
        }
        menu = self.menu(spec.menu, ("menu",), "")
        self.check_menu_services(spec.menu, ("menu",))
        sites = {
            group: tuple(
                Site(group, site.name, self.number(site.number, ("sites", group, i, "number")))
                for i, site in enumerate(entries)
            )
            for group, entries in spec.sites.items()
        }
        outages = build_outages(self, spec.outages, contacts, list(spec.sites))
        notify = build_notify(self, spec, contacts)
        probe = build_probe(self, spec.probe, contacts, menu, sites)
        if self.problems:
            return None
        plan = Plan(line=numbers[0], tz=tz, services=services, version=self.version)
        return Hotline(
            numbers=numbers, name=line.name, country=line.country, subdivision=line.subdivision,
            tz=tz, language=language, voice=line.voice, fallback=fallback, calendar=calendar,
            schedules=schedules, plan=plan, menu=menu, contacts=contacts,
            systems={k: v.name for k, v in spec.systems.items()}, sites=sites,
            source=self.source, version=self.version, outages=outages,
            call_log_days=line.call_log_days, caller_id=caller_id, notify=notify, probe=probe,
        )

    def language(self, tag: str) -> str:
        """Return `tag` as one of LANGUAGES (any letter case), or record a problem and return en-US."""
        found = next((known for known in LANGUAGES if known.lower() == tag.lower()), None)
        if found is None:
            self.fail(("hotline", "language"), f"{tag!r} is not a language the hotline speaks; use the Twilio "
                                               f"language tag of Danish, Swedish or English: {', '.join(LANGUAGES)}")
            return "en-US"
        return found

    def calendar(self, line: s.LineSpec, language: str) -> HolidayCalendar:
        known = available_categories(line.country)
        for i, cat in enumerate(line.holidays.categories):
            if cat not in known:
                self.fail(("hotline", "holidays", "categories", i),
                          f"unknown holiday category {cat!r} for {line.country} (known: {', '.join(known)})")
        for day in line.holidays.extra:
            if not _DATE.match(day):
                self.fail(("hotline", "holidays", "extra", day), f"{day!r} is not MM-DD or YYYY-MM-DD")
            elif _bad_date(day):
                self.fail(("hotline", "holidays", "extra", day), _bad_date(day))
        try:
            calendar = HolidayCalendar(
                country=line.country, subdivision=line.subdivision,
                categories=tuple(c for c in line.holidays.categories if c in known) or ("public",),
                extra=tuple(line.holidays.extra.items()), exclude=tuple(line.holidays.exclude),
                language=language,
            )
        except (NotImplementedError, KeyError, ValueError) as exc:
            self.fail(("hotline", "country"), f"no holiday calendar for {line.country}/{line.subdivision}: {exc}")
            return HolidayCalendar(country="DK")
        self.check_excludes(calendar, line.holidays.exclude)
        return calendar

    def check_excludes(self, calendar: HolidayCalendar, exclude: list[str]) -> None:
        """Record a problem for each excluded date that does not exist and each name that is no
        holiday of the calendar's country and categories in the years around now (not checked when
        the language was refused: the names would be in the wrong language)."""
        if any(path == ("hotline", "language") for path, _ in self.problems):
            return
        this_year = dt.date.today().year
        years = range(this_year - 2, this_year + 3)
        names: frozenset[str] | None = None
        for i, entry in enumerate(exclude):
            path = ("hotline", "holidays", "exclude", i)
            if _DATE.match(entry):
                if _bad_date(entry):
                    self.fail(path, _bad_date(entry))
                continue
            names = calendar.package_names(years) if names is None else names
            if entry not in names:
                near = difflib.get_close_matches(entry, names, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                self.fail(path, f"{entry!r} is no holiday of {calendar.country} ({', '.join(calendar.categories)}) "
                                f"in {years[0]}-{years[-1]}{hint}; known: {', '.join(sorted(names))}")

    # -- schedules -----------------------------------------------------------------------------
    def windows(self, texts: list[str], path: Path) -> tuple[Window, ...]:
        out: list[Window] = []
        for i, text in enumerate(texts):
            try:
                out.append(parse_window(text))
            except ValueError as exc:
                self.fail(path + (i,), str(exc))
        out.sort()
        for a, b in zip(out, out[1:]):
            if b.start < a.end:
                self.fail(path, f"windows {a} and {b} overlap")
        return tuple(out)

    def schedule(self, sid: str, sch: s.ScheduleSpec, tz: ZoneInfo, calendar: HolidayCalendar) -> Schedule:
        path: Path = ("schedules", sid)
        weekly: list[tuple[Window, ...] | None] = [None] * 7
        for spec_days, texts in sch.hours.items():
            try:
                days = parse_weekdays(spec_days)
            except ValueError as exc:
                self.fail(path + ("hours", spec_days), str(exc))
                continue
            wins = self.windows(texts, path + ("hours", spec_days))
            for d in days:
                if weekly[d] is not None:
                    self.fail(path + ("hours", spec_days), f"{WEEKDAYS[d]} is given more than once")
                weekly[d] = wins
        overrides_day, overrides_time = [], []
        for i, o in enumerate(sch.overrides):
            self.override(o, path + ("overrides", i), overrides_day, overrides_time)
        return Schedule(
            name=sid, label=sch.label, tz=tz, calendar=calendar,
            weekly=tuple(w or () for w in weekly),
            holidays=self.policy(sch.holidays, path + ("holidays",)),
            eves=self.policy(sch.eves, path + ("eves",)),
            day_overrides=tuple(overrides_day), time_overrides=tuple(overrides_time),
        )

    def policy(self, raw: object, path: Path) -> DayPolicy:
        hint = "use closed, normal, as_sunday (any weekday), {hours: [...]} or {close_at: 'HH:MM'}"
        if isinstance(raw, str):
            if raw in ("closed", "normal"):
                return DayPolicy(raw)  # type: ignore[arg-type]
            if raw.startswith("as_"):
                try:
                    (day,) = parse_weekdays(raw[3:])
                    return DayPolicy("weekday", weekday=day)
                except ValueError:
                    pass
        elif isinstance(raw, dict) and list(raw) == ["hours"] and isinstance(raw["hours"], list):
            return DayPolicy("hours", windows=self.windows([str(x) for x in raw["hours"]], path + ("hours",)))
        elif isinstance(raw, dict) and list(raw) == ["close_at"]:
            try:
                return DayPolicy("close_at", close_at=parse_time(str(raw["close_at"])))
            except ValueError as exc:
                self.fail(path + ("close_at",), str(exc))
                return DayPolicy("normal")
        self.fail(path, f"{raw!r} is not a day policy: {hint}")
        return DayPolicy("closed")

    def override(self, o: s.OverrideSpec, path: Path, days: list, times: list) -> None:
        if _DATE.match(o.from_) and _DATE.match(o.to):
            bad = [(name, _bad_date(text)) for name, text in (("from", o.from_), ("to", o.to)) if _bad_date(text)]
            if bad:
                for name, why in bad:
                    self.fail(path + (name,), why)
            elif len(o.from_) != len(o.to):
                self.fail(path, "from and to must both be MM-DD or both YYYY-MM-DD")
            elif o.open is not None:
                self.fail(path + ("open",), "whole-day overrides take 'hours' ([] closes them)")
            elif o.hours is None:
                self.fail(path, "a whole-day override needs 'hours' (e.g. ['00:00-24:00'], or [] for closed)")
            else:
                if len(o.from_) == 10 and o.from_ > o.to:
                    self.fail(path + ("to",), "ends before it starts")
                days.append(DayOverride(o.name, o.from_, o.to, self.windows(o.hours, path + ("hours",)),
                                        o.announcement))
            return
        if _DATETIME.match(o.from_) and _DATETIME.match(o.to):
            moments = {}
            for name, text in (("from", o.from_), ("to", o.to)):
                try:
                    moments[name] = dt.datetime.fromisoformat(text.replace(" ", "T"))
                except ValueError as exc:
                    self.fail(path + (name,), f"{text!r} is not a date and time ({exc})")
            if len(moments) < 2:
                return
            start, end = moments["from"], moments["to"]
            if end <= start:
                self.fail(path + ("to",), "ends before it starts")
            elif o.hours is not None:
                self.fail(path + ("hours",), "a timed override takes 'open: true/false' or only an announcement")
            else:
                times.append(TimeOverride(o.name, start, end, o.open, o.announcement))
            return
        self.fail(path, "from/to must both be dates (MM-DD or YYYY-MM-DD) or both 'YYYY-MM-DD HH:MM'")

    # -- targets and services ------------------------------------------------------------------
    def target(self, tid: str, t: s.TargetSpec, contacts: dict[str, Contact]) -> Target:
        path: Path = ("targets", tid)
        kind = RouteKind(t.kind)
        steps = []
        for i, st in enumerate(t.steps):
            parties = [self.party(ref, path + ("steps", i, "call", j), contacts) for j, ref in enumerate(st.call)]
            if kind is RouteKind.EMERGENCY and st.screen:
                self.fail(path + ("steps", i, "screen"), "emergency targets are never screened")
            steps.append(Step(tuple(n for n, _ in parties), st.timeout, st.screen, tuple(m for _, m in parties)))
        if kind is RouteKind.CLOSED:
            if steps:
                self.fail(path + ("steps",), "a closed target has no steps")
            if t.exhausted is None or t.exhausted.message is None:
                self.fail(path + ("exhausted",), "a closed target needs exhausted: {message: ...}")
        elif not steps:
            self.fail(path + ("steps",), f"a {kind.value} target needs at least one step")
        ex = t.exhausted or s.ExhaustedSpec(message="")
        if ex.voicemail is not None:
            if kind is RouteKind.EMERGENCY:
                self.fail(path + ("exhausted", "voicemail"), "emergency targets never end in voicemail")
            exhausted = Exhausted(ExhaustedKind.VOICEMAIL, message=ex.voicemail)
        elif ex.dial is not None:
            exhausted = Exhausted(ExhaustedKind.DIAL, number=self.party(ex.dial, path + ("exhausted", "dial"), contacts)[0])
        else:
            exhausted = Exhausted(ExhaustedKind.MESSAGE, message=ex.message)
        return Target(tid, t.name, kind, tuple(steps), exhausted, t.announcement)

    def service(self, sid: str, svc: s.ServiceSpec, schedules: dict, targets: dict) -> Service:
        path: Path = ("services", sid)
        rules = []
        for i, r in enumerate(svc.rules):
            if r.while_ not in schedules:
                self.fail(path + ("rules", i, "while"),
                          f"unknown schedule {r.while_!r} (known: {', '.join(sorted(schedules)) or 'none'})")
            if r.target not in targets:
                self.fail(path + ("rules", i, "target"), f"unknown target {r.target!r}")
            if r.while_ in schedules and r.target in targets:
                rules.append(Rule(schedules[r.while_], targets[r.target]))
        default = targets.get(svc.default)
        if default is None:
            self.fail(path + ("default",), f"unknown target {svc.default!r}")
            default = Target("none", "none", RouteKind.CLOSED)
        if svc.system is not None and svc.system not in self.spec.systems:
            self.fail(path + ("system",), f"unknown system {svc.system!r} (declare it under systems:)")
        return Service(sid, svc.name, tuple(rules), default, svc.system, svc.announcement)

    # -- menus ---------------------------------------------------------------------------------
    def menu(self, m: s.MenuSpec, path: Path, keys: str) -> Menu:
        lang = self.spec.hotline.language.split("-")[0].lower()
        if not m.prompt.strip():
            self.fail(path + ("prompt",), "a prompt must say something (the caller would hear silence)")
        if m.repeat_key in m.options:
            self.fail(path + ("options", m.repeat_key), f"key {m.repeat_key} is the repeat key of this menu")
        options = {k: self.option(o, path + ("options", k), keys + k) for k, o in m.options.items()}
        return Menu(
            path=keys, prompt=m.prompt, options=options,
            invalid_prompt=m.invalid_prompt or _DEFAULT_INVALID.get(lang, "That is not an option."),
            timeout_prompt=m.timeout_prompt or _DEFAULT_TIMEOUT.get(lang, "We did not hear a choice."),
            retries=m.retries, timeout=m.timeout, repeat_key=m.repeat_key,
            default=self.option(m.default, path + ("default",), keys) if m.default else None,
        )

    def option(self, o: s.OptionSpec, path: Path, keys: str) -> Option:
        if o.menu is not None:
            return Option(OptionKind.MENU, o.label, menu=self.menu(o.menu, path + ("menu",), keys))
        if o.say is not None:
            then = self.option(o.then, path + ("then",), keys) if o.then else None
            return Option(OptionKind.SAY, o.label, say=o.say, then=then)
        if o.code is not None:
            c = o.code
            if not c.prompt.strip():
                self.fail(path + ("code", "prompt"), "a prompt must say something (the caller would hear silence)")
            codes = dict(c.codes) if isinstance(c.codes, dict) else {x: x for x in c.codes}
            for code in codes:
                if not is_ascii_digits(str(code)):
                    self.fail(path + ("code", "codes"), f"code {code!r} must be digits only")
            lang = self.spec.hotline.language.split("-")[0].lower()
            entry = CodeEntry(
                prompt=c.prompt, codes=codes,
                invalid_prompt=c.invalid_prompt or _DEFAULT_INVALID.get(lang, "That code is not accepted."),
                allow_empty=c.allow_empty, max_digits=max((len(x) for x in codes), default=1) + 1,
                retries=c.retries, timeout=c.timeout,
                next=self.option(c.then, path + ("code", "then"), keys + "#"),
            )
            return Option(OptionKind.CODE, o.label, code=entry)
        if o.staff:
            return Option(OptionKind.STAFF, o.label)
        return Option(OptionKind.SERVICE, o.label, service=o.service)

    def check_menu_services(self, m: s.MenuSpec, path: Path) -> None:
        """Record a problem for every option that names an unknown service."""
        for option, where in s.menu_options(m, path):
            if option.service is not None and option.service not in self.spec.services:
                self.fail(where + ("service",), f"unknown service {option.service!r}")
