"""Catalogs: every message has a Vietnamese translation with the same placeholders; dates."""

from __future__ import annotations

import ast
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


# English words that slipped into Vietnamese texts before; a placeholder or a /command may still
# carry them (`{staff_id}`, `/symptoms`), the words of a sentence may not.
KNOWN_LEAKS = ("symptoms", "staff", "pending", "ban", "normal")
ALSO_VIETNAMESE = {"ban"}  # «phòng, ban»: a leak only where the English text has it too
_NOT_PROSE = re.compile(r"\{\w+\}|/\w+(?: [a-z]+\b)?|<[^>]*>|\b[\w.-]+\.(?:csv|toml|xlsx)\b")
_DOUBLED = re.compile(r"\b(\w+)\s+\1\b", re.IGNORECASE)
_DATE_FORMATTERS = {
    "date",
    "when",
}  # Translator methods whose text already starts with «ngày»/«hh:mm, thứ …»


def _vietnamese_texts() -> list[tuple[str, str]]:
    with po_path(LOCALES_DIR, "vi").open("rb") as handle:
        catalog = read_po(handle)
    found = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found += [(_msgid(message.id), text) for text in strings if text]
    return found


def _words(text: str) -> set[str]:
    return set(re.findall(r"\b[a-z]+\b", text.lower()))


def _placeholders_filled_with_dates() -> dict[str, set[str]]:
    """For each message id in bot/: the placeholders given `t.date(...)` or `t.when(...)`."""
    filled: dict[str, set[str]] = {}
    for path in (LOCALES_DIR.parent / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "_"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                continue
            for keyword in node.keywords:
                value = keyword.value
                if (
                    keyword.arg
                    and isinstance(value, ast.Call)
                    and isinstance(value.func, ast.Attribute)
                    and value.func.attr in _DATE_FORMATTERS
                ):
                    filled.setdefault(node.args[0].value, set()).add(keyword.arg)
    return filled


def test_catalog_has_no_english_leaks_or_doubled_words() -> None:
    leaks, doubled = [], []
    for msgid, text in _vietnamese_texts():
        prose = _NOT_PROSE.sub(" ", text)
        words = _words(prose)
        english = _words(_NOT_PROSE.sub(" ", msgid))
        leaks += [
            (word, text)
            for word in KNOWN_LEAKS
            if word in words and (word not in ALSO_VIETNAMESE or word in english)
        ]
        doubled += [(text, m.group(0)) for m in _DOUBLED.finditer(prose)]
    dates = _placeholders_filled_with_dates()
    texts = dict(_vietnamese_texts())
    for msgid, names in dates.items():
        text = texts.get(msgid, "")
        doubled += [(text, f"ngày {{{n}}}") for n in names if f"ngày {{{n}}}" in text]
    assert leaks == [], leaks
    assert doubled == [], f"«ngày ngày» and the like: {doubled}"


def test_catalog_writes_anh_chi_one_way() -> None:
    assert [text for _, text in _vietnamese_texts() if "Anh/Chị" in text] == []
