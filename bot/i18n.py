"""Per-recipient translation (gettext catalogs in locales/, read with Babel) and date formatting.

There is no process-wide current language: each update or recipient gets its own Translator.
Message ids are English; `locales/vi` holds the Vietnamese text (the default language).
Mark strings as `t._("text {name}", name=...)` so `python -m bot i18n` can extract them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LANGUAGES = ("vi", "en")
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

_EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_VI_DIGITS = str.maketrans(",.", ".,")
_VI_WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


class Translator:
    def __init__(
        self, language: str, catalog: dict[str, str | tuple[str, ...]], province: bool = False
    ) -> None:
        self.language = language
        self._catalog = catalog
        self.province = province  # the home unit is a province (Vietnamese «tỉnh»)

    def home_area(self) -> str:
        """What people leave when they travel: «thành phố» or, for a province, «tỉnh»."""
        return self._("the province") if self.province else self._("the city")

    def _(self, msgid: str, **values: object) -> str:
        found = self._catalog.get(msgid)
        text = found if isinstance(found, str) and found else msgid
        return text.format(**values) if values else text

    def n_(self, singular: str, plural: str, n: int, **values: object) -> str:
        found = self._catalog.get(singular)
        forms = found if isinstance(found, tuple) and all(found) else (singular, plural)
        text = forms[0] if n == 1 or len(forms) == 1 else forms[1]
        return text.format(n=n, **values)

    def number(self, n: float, decimals: int = 0) -> str:
        """`200.000` / `200,000`; `1,5` / `1.5` (Vietnamese groups with dots)."""
        text = f"{n:,.{decimals}f}"
        return text.translate(_VI_DIGITS) if self.language == "vi" else text

    def date(self, day: date) -> str:
        """`ngày 26 tháng 5 năm 2021` / `26 May 2021`."""
        if self.language == "vi":
            return f"ngày {day.day} tháng {day.month} năm {day.year}"
        return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"

    def day_month(self, day: dt.date) -> str:
        """`02/12`: a day as people write it in examples, in both languages."""
        return f"{day.day:02d}/{day.month:02d}"

    def numeric_date(self, day: dt.date) -> str:
        """`02/12/2026` in both languages."""
        return f"{day.day:02d}/{day.month:02d}/{day.year}"

    def example(self, today: dt.date, days: int, clock: str = "") -> str:
        """A date for a prompt's example, `days` after today: `03/12/2026` or `03/12/2026 07:00`
        (examples follow the injected clock, so they never show a year long past)."""
        text = self.numeric_date(today + dt.timedelta(days=days))
        return f"{text} {clock}" if clock else text

    def weekday(self, day: dt.date) -> str:  # `date` here would name the method above
        names = _VI_WEEKDAYS if self.language == "vi" else _EN_WEEKDAYS
        return names[day.weekday()]

    def when(self, moment: datetime) -> str:
        """`17:30, thứ Tư, ngày 26 tháng 5 năm 2021` / `17:30, Wednesday, 26 May 2021`."""
        clock = f"{moment.hour:02d}:{moment.minute:02d}"
        return f"{clock}, {self.weekday(moment.date())}, {self.date(moment.date())}"

    def short(self, moment: datetime) -> str:
        """`26/05/2021 17:30` in both languages (as people write it in Vietnam)."""
        return f"{moment.day:02d}/{moment.month:02d}/{moment.year} {moment.hour:02d}:{moment.minute:02d}"


class Translations:
    """All catalogs, loaded once; `for_language` hands out Translators."""

    def __init__(
        self,
        locales_dir: Path = LOCALES_DIR,
        default_language: str = "vi",
        home_is_province: bool = False,
    ) -> None:
        self.default_language = default_language
        self.home_is_province = home_is_province
        self._catalogs = {lang: _load_catalog(locales_dir, lang) for lang in LANGUAGES}

    def for_language(self, language: str | None) -> Translator:
        lang = language if language in self._catalogs else self.default_language
        return Translator(lang, self._catalogs[lang], self.home_is_province)

    def pick(self, saved: str | None, client_language: str | None) -> Translator:
        """Saved choice, then the messenger's language code (`en-US` → en), then the default."""
        if saved in LANGUAGES:
            return self.for_language(saved)
        if client_language:
            base = client_language.split("-")[0].lower()
            if base in LANGUAGES:
                return self.for_language(base)
        return self.for_language(self.default_language)

    def all(self) -> Iterable[Translator]:
        return (self.for_language(lang) for lang in LANGUAGES)


def po_path(locales_dir: Path, language: str) -> Path:
    return locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _load_catalog(locales_dir: Path, language: str) -> dict[str, str | tuple[str, ...]]:
    path = po_path(locales_dir, language)
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog: Catalog = read_po(handle, locale=language)
    entries: dict[str, str | tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        value = message.string
        if value is not None:
            entries[key] = value if isinstance(value, str) else tuple(value)
    return entries
