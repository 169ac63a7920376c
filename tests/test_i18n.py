"""Catalogs: every message has a Vietnamese translation with the same placeholders; dates."""

from __future__ import annotations

import re
from datetime import date, datetime

from babel.messages.pofile import read_po

from bot.domain.clock import VIETNAM
from bot.i18n import LOCALES_DIR, Translations, po_path
from bot.i18n_tools import extract_catalog

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _msgid(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def test_every_message_in_the_code_has_a_vietnamese_translation() -> None:
    with po_path(LOCALES_DIR, "vi").open("rb") as handle:
        vietnamese = {_msgid(m.id): m for m in read_po(handle) if m.id}
    missing = []
    for message in extract_catalog():
        if not message.id:
            continue
        found = vietnamese.get(_msgid(message.id))
        strings = (
            ()
            if found is None
            else (found.string if isinstance(found.string, tuple) else (found.string,))
        )
        if found is None or found.fuzzy or not all(strings):
            missing.append(_msgid(message.id))
    assert missing == [], f"run `python -m bot i18n` and translate: {missing}"


def test_translations_keep_the_placeholders() -> None:
    with po_path(LOCALES_DIR, "vi").open("rb") as handle:
        for message in read_po(handle):
            if not message.id or not isinstance(message.id, str):
                continue
            assert set(PLACEHOLDER.findall(message.id)) == set(
                PLACEHOLDER.findall(message.string)
            ), message.id


def test_vietnamese_dates() -> None:
    t = Translations().for_language("vi")
    assert t.date(date(2021, 5, 26)) == "ngày 26 tháng 5 năm 2021"
    assert (
        t.when(datetime(2021, 5, 26, 17, 30, tzinfo=VIETNAM))
        == "17:30, thứ Tư, ngày 26 tháng 5 năm 2021"
    )
    assert t.when(datetime(2021, 5, 30, 8, 5, tzinfo=VIETNAM)).startswith("08:05, Chủ nhật")
    assert t.short(datetime(2021, 5, 26, 17, 30, tzinfo=VIETNAM)) == "26/05/2021 17:30"


def test_english_dates_and_fallbacks() -> None:
    translations = Translations()
    t = translations.for_language("en")
    assert t.date(date(2021, 5, 26)) == "26 May 2021"
    assert t.when(datetime(2021, 5, 26, 17, 30, tzinfo=VIETNAM)) == "17:30, Wednesday, 26 May 2021"
    assert translations.pick(None, "en-GB").language == "en"
    assert translations.pick(None, "fr").language == "vi"
    assert translations.pick("vi", "en").language == "vi"
    assert t._("Unit: {unit}", unit="X") == "Unit: X"
    assert translations.for_language("vi")._("Unit: {unit}", unit="X") == "Đơn vị: X"
