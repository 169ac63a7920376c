from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.clock import VIETNAM
from bot.domain.datetime_parse import (
    ParsedWhen,
    ParseError,
    ParseFailure,
    format_short,
    parse_when,
)

NOW = datetime(2021, 5, 26, 9, 0, tzinfo=VIETNAM)  # a Wednesday


def at(day: int, month: int, year: int = 2021, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM)


def parsed(text: str, now: datetime = NOW, **kwargs: object) -> ParsedWhen:
    result = parse_when(text, now, **kwargs)  # type: ignore[arg-type]
    assert isinstance(result, ParsedWhen), (text, result)
    assert result.value.tzinfo is VIETNAM
    return result


@pytest.mark.parametrize(
    "text",
    [
        "26/05/2021", "26/5/2021", "26-05-2021", "26.05.2021", "26/05/21", "2021-05-26",
        "26/5", "26/05", "ngày 26 tháng 5 năm 2021", "Ngày 26 Tháng 05 Năm 2021",
        "ngay 26 thang 5", "26 tháng 5", "ngày 26/05/2021", "hôm nay", "hom nay", "HÔM NAY",
        "nay",
    ],
)  # fmt: skip
def test_dates_without_time(text: str) -> None:
    result = parsed(text)
    assert result == ParsedWhen(at(26, 5), has_time=False)


@pytest.mark.parametrize(
    ("text", "hour", "minute"),
    [
        ("26/05/2021 17:30", 17, 30),
        ("17:30 26/05/2021", 17, 30),
        ("17h30 26/5", 17, 30),
        ("17H30 26/5", 17, 30),
        ("17h 26/5", 17, 0),
        ("17g30 26/5", 17, 30),
        ("17 giờ 30 phút ngày 26/5", 17, 30),
        ("lúc 17h30 ngày 26 tháng 5 năm 2021", 17, 30),
        ("26/5, 7:05", 7, 5),
        ("5h chiều 26/5", 17, 0),
        ("5 giờ chiều 26/5", 17, 0),
        ("26/5 5 giờ rưỡi chiều", 17, 30),
        ("8h tối 26/5", 20, 0),
        ("chiều 26/5 lúc 3h", 15, 0),
        ("7h sáng 26/5", 7, 0),
        ("12h trưa 26/5", 12, 0),
        ("1h trưa 26/5", 13, 0),
        ("12h đêm 26/5", 0, 0),
        ("17h chiều 26/5", 17, 0),  # a 24-hour time keeps its hour
        ("5pm 26/5", 17, 0),
        ("12am 26/5", 0, 0),
        ("00:00 26/5", 0, 0),
        ("23:59 26/5", 23, 59),
    ],
)
def test_dates_with_time(text: str, hour: int, minute: int) -> None:
    assert parsed(text) == ParsedWhen(at(26, 5, hour=hour, minute=minute), has_time=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mai", at(27, 5)),
        ("ngày mai", at(27, 5)),
        ("ngay mai", at(27, 5)),
        ("sáng mai", at(27, 5)),  # a qualifier without a time gives no time
        ("mốt", at(28, 5)),
        ("ngày mốt", at(28, 5)),
        ("ngày kia", at(28, 5)),
        ("hôm qua", at(25, 5)),
        ("hôm kia", at(24, 5)),
        ("thứ 7", at(29, 5)),
        ("thứ bảy", at(29, 5)),
        ("Thứ Bảy", at(29, 5)),
        ("t7", at(29, 5)),
        ("chủ nhật", at(30, 5)),
        ("cn", at(30, 5)),
        ("thứ 2", at(31, 5)),
        ("thứ hai", at(31, 5)),
        ("thứ năm", at(27, 5)),
        ("thứ 4", at(2, 6)),  # today's weekday without a time: next week
        ("thứ tư", at(2, 6)),
        ("26/5", at(26, 5)),  # today counts
        ("25/5", at(25, 5, 2022)),  # already passed: next year
        ("1/1", at(1, 1, 2022)),
        ("ngày 25 tháng 5", at(25, 5, 2022)),
    ],
)
def test_relative_days(text: str, expected: datetime) -> None:
    assert parsed(text) == ParsedWhen(expected, has_time=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mai 7h", at(27, 5, hour=7)),
        ("7h mai", at(27, 5, hour=7)),
        ("chiều mai 5h", at(27, 5, hour=17)),
        ("5h chiều mai", at(27, 5, hour=17)),
        ("8h tối nay", at(26, 5, hour=20)),
        ("thứ 7 lúc 6:30", at(29, 5, hour=6, minute=30)),
        ("thứ 4 10h", at(26, 5, hour=10)),  # today, and the time still lies ahead
        ("thứ 4 9h", at(26, 5, hour=9)),  # now itself still counts
        ("thứ 4 8h", at(2, 6, hour=8)),  # the time has passed: next week
        ("17h", at(26, 5, hour=17)),  # a time alone: today while it lies ahead
        ("7h", at(27, 5, hour=7)),  # … else tomorrow
        ("bây giờ", at(26, 5, hour=9)),
    ],
)
def test_relative_days_with_time(text: str, expected: datetime) -> None:
    assert parsed(text) == ParsedWhen(expected, has_time=True)


def test_bay_gio_is_the_current_minute() -> None:
    now = datetime(2021, 5, 26, 9, 41, 37, 123, tzinfo=VIETNAM)
    assert parsed("bây giờ", now).value == at(26, 5, hour=9, minute=41)


def test_default_time_when_no_time_is_typed() -> None:
    assert parsed("27/05/2021", default_time=time(7, 30)) == ParsedWhen(
        at(27, 5, hour=7, minute=30), has_time=False
    )
    assert parsed("27/05/2021 18:00", default_time=time(7, 30)).value == at(27, 5, hour=18)


def test_now_in_another_zone_is_read_as_vietnam_time() -> None:
    # 20:00 UTC on 25 May is already 03:00 on 26 May in Vietnam.
    now = datetime(2021, 5, 25, 20, 0, tzinfo=UTC)
    assert parsed("hôm nay", now).value == at(26, 5)
    assert parsed("mai 7h", now).value == at(27, 5, hour=7)


def test_year_rolls_over_for_a_day_without_year() -> None:
    new_years_eve = datetime(2021, 12, 31, 23, 0, tzinfo=VIETNAM)
    assert parsed("2/1", new_years_eve).value == at(2, 1, 2022)
    assert parsed("mai", new_years_eve).value == at(1, 1, 2022)
    assert parsed("t2", new_years_eve).value == at(3, 1, 2022)


def test_29_february() -> None:
    assert parsed("29/2", datetime(2024, 1, 10, tzinfo=VIETNAM)).value == at(29, 2, 2024)
    assert parse_when("29/2", NOW) == ParseFailure(ParseError.NO_SUCH_DATE)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", ParseError.EMPTY),
        ("   \n\t", ParseError.EMPTY),
        ("x" * 101, ParseError.TOO_LONG),
        ("26/05/2021 " + " " * 60 + "17:30" + "!" * 30, ParseError.TOO_LONG),
        ("31/02/2021", ParseError.NO_SUCH_DATE),
        ("29/02/2023", ParseError.NO_SUCH_DATE),
        ("32/5/2021", ParseError.NO_SUCH_DATE),
        ("26/13/2021", ParseError.NO_SUCH_DATE),
        ("26/5/0001", ParseError.NO_SUCH_DATE),
        ("ngày 31 tháng 4 năm 2021", ParseError.NO_SUCH_DATE),
        ("25:00", ParseError.BAD_TIME),
        ("17:75", ParseError.BAD_TIME),
        ("26/05/2021 24:00", ParseError.BAD_TIME),
        ("17h sáng 26/5", ParseError.BAD_TIME),
        ("13pm", ParseError.BAD_TIME),
        ("abc", ParseError.UNRECOGNISED),
        ("26", ParseError.UNRECOGNISED),
        ("26/5 abc", ParseError.UNRECOGNISED),
        ("26/5 27/5", ParseError.UNRECOGNISED),
        ("mai 7h 8h", ParseError.UNRECOGNISED),
        ("sáng chiều mai", ParseError.UNRECOGNISED),
        ("chiều", ParseError.UNRECOGNISED),
        ("kia", ParseError.UNRECOGNISED),
        ("17:", ParseError.UNRECOGNISED),
        ("bây giờ 7h", ParseError.UNRECOGNISED),
        ("26/05/2021/3", ParseError.UNRECOGNISED),
    ],
)
def test_failures(text: str, reason: ParseError) -> None:
    assert parse_when(text, NOW) == ParseFailure(reason)


def test_not_a_string() -> None:
    assert parse_when(None, NOW) == ParseFailure(ParseError.UNRECOGNISED)  # type: ignore[arg-type]


def test_format_short() -> None:
    assert format_short(at(26, 5, hour=17, minute=30)) == "26/05/2021 17:30"
    assert format_short(datetime(2021, 5, 26, 10, 30, tzinfo=UTC)) == "26/05/2021 17:30"
    assert format_short(datetime(2021, 1, 2, 3, 4)) == "02/01/2021 03:04"


_NOWS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(VIETNAM)
)
_MINUTES = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31, 23, 59)
).map(lambda d: d.replace(second=0, microsecond=0, tzinfo=VIETNAM))


@given(st.text(max_size=120), _NOWS)
def test_never_raises_on_any_text(text: str, now: datetime) -> None:
    result = parse_when(text, now)
    assert isinstance(result, ParsedWhen | ParseFailure)
    if isinstance(result, ParsedWhen):
        assert result.value.tzinfo is VIETNAM


@given(st.text(min_size=101, max_size=10_000).filter(lambda s: len(s.strip()) > 100), _NOWS)
def test_long_text_is_too_long(text: str, now: datetime) -> None:
    assert parse_when(text, now) == ParseFailure(ParseError.TOO_LONG)


_TEXTISH = st.lists(
    st.sampled_from(
        ["26", "/", "5", "2021", ":", "h", "17", "30", "ngày", "tháng", "năm", "mai", "thứ", "7",
         "chiều", "sáng", " ", "-", ".", "giờ", "rưỡi", "cn", "t", "pm", "0", "99", "hôm", "nay"]
    ),
    max_size=12,
).map("".join)  # fmt: skip


@given(_TEXTISH, _NOWS)
def test_never_raises_on_date_like_text(text: str, now: datetime) -> None:
    assert isinstance(parse_when(text, now), ParsedWhen | ParseFailure)


@given(
    _MINUTES,
    _NOWS,
    st.sampled_from(["%d/%m/%Y %H:%M", "%H:%M %d/%m/%Y", "%Hh%M %d-%m-%Y", "%d.%m.%Y %Hg%M"]),
)
def test_round_trip(moment: datetime, now: datetime, layout: str) -> None:
    assert parse_when(moment.strftime(layout), now) == ParsedWhen(moment, has_time=True)


@given(_MINUTES, _NOWS)
def test_round_trip_of_format_short(moment: datetime, now: datetime) -> None:
    assert parse_when(format_short(moment), now) == ParsedWhen(moment, has_time=True)


@given(_MINUTES, _NOWS)
def test_round_trip_in_words(moment: datetime, now: datetime) -> None:
    text = f"ngày {moment.day} tháng {moment.month} năm {moment.year} lúc {moment.hour} giờ {moment.minute}"
    assert parse_when(text, now) == ParsedWhen(moment, has_time=True)


@given(_NOWS, st.integers(min_value=1, max_value=31), st.integers(min_value=1, max_value=12))
def test_day_without_year_is_today_or_later_and_within_a_year(
    now: datetime, day: int, month: int
) -> None:
    result = parse_when(f"{day}/{month}", now)
    if isinstance(result, ParsedWhen):
        assert (result.value.day, result.value.month) == (day, month)
        assert now.date() <= result.value.date() < now.date() + timedelta(days=367)
    else:
        assert result.reason is ParseError.NO_SUCH_DATE


@given(_NOWS, st.sampled_from(["t2", "t3", "t4", "t5", "t6", "t7", "cn"]))
def test_weekday_is_within_the_next_week(now: datetime, text: str) -> None:
    value = parsed(text, now).value
    assert 1 <= (value.date() - now.date()).days <= 7
    assert value.weekday() == (6 if text == "cn" else int(text[1]) - 2)
