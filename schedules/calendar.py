"""Public holidays of a country, from the `holidays` package, with an admin's additions."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import holidays


@dataclass(frozen=True)
class HolidayCalendar:
    """Which days count as holidays for a hotline.

    `categories` are the `holidays` package's categories (DK: public, optional; SE: public,
    de_facto, bank, optional). `extra` adds days by "MM-DD" (every year) or "YYYY-MM-DD" with a
    name; `exclude` removes package holidays by name or date. Names are in `language` where the
    package has it.
    """

    country: str
    subdivision: str | None = None
    categories: tuple[str, ...] = ("public",)
    extra: tuple[tuple[str, str], ...] = ()
    exclude: tuple[str, ...] = ()
    language: str | None = None
    _lib: holidays.HolidayBase = field(init=False, repr=False, compare=False, hash=False)
    _cache: dict = field(init=False, repr=False, compare=False, hash=False, default_factory=dict)

    def __post_init__(self) -> None:
        lang = _pick_language(self.country, self.language)
        lib = holidays.country_holidays(
            self.country, subdiv=self.subdivision, categories=self.categories, language=lang
        )
        object.__setattr__(self, "_lib", lib)

    def name(self, day: dt.date) -> str | None:
        """Return the holiday's name on `day`, or None when it is not a holiday."""
        try:
            return self._cache[day]
        except KeyError:
            pass
        found = self._lookup(day)
        if len(self._cache) >= 4096:
            self._cache.clear()     # bounded over years of uptime; refilled on demand
        self._cache[day] = found
        return found

    def _lookup(self, day: dt.date) -> str | None:
        iso, yearly = day.isoformat(), day.strftime("%m-%d")
        for when, label in self.extra:
            if when in (iso, yearly):
                return label
        if iso in self.exclude or yearly in self.exclude:
            return None
        found = self._lib.get(day)
        if found is None:
            return None
        names = [n.strip() for n in str(found).split(";")]
        kept = [n for n in names if n not in self.exclude]
        return "; ".join(kept) or None

    def package_names(self, years: range) -> frozenset[str]:
        """Return the names the `holidays` package gives this calendar's holidays in `years`
        (in its language, before `extra` and `exclude`)."""
        lib = holidays.country_holidays(self.country, subdiv=self.subdivision, categories=self.categories,
                                        language=_pick_language(self.country, self.language), years=years)
        return frozenset(name.strip() for value in lib.values() for name in str(value).split(";"))

    def eve_of(self, day: dt.date) -> str | None:
        """Return the name of tomorrow's holiday if `day` is its eve (and no holiday itself)."""
        if self.name(day) is not None:
            return None
        return self.name(day + dt.timedelta(days=1))


def _pick_language(country: str, language: str | None) -> str | None:
    """Return the `holidays` language code closest to a BCP-47 tag ("da-DK" -> "da"), or None."""
    if not language:
        return None
    supported = getattr(getattr(holidays, country.upper(), None), "supported_languages", ())
    for candidate in (language.replace("-", "_"), language.split("-")[0]):
        if candidate in supported:
            return candidate
    return None


def available_categories(country: str) -> tuple[str, ...]:
    """Return the holiday categories the `holidays` package supports for `country`."""
    lib = getattr(holidays, country.upper(), None)
    return tuple(getattr(lib, "supported_categories", ("public",)))
