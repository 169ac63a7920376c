"""Settings: every invalid value is refused with one line naming the setting (bot/config.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import Settings, SettingsError, load_settings, parse_duration
from tests.paths import ROOT

INVALID = {
    "TIMEZONE": "Mars/Olympus_Mons",
    "DATABASE_URL": "mysql://khaibao:s3cret-pw@db.example/khaibao",
    "DEFAULT_LANGUAGE": "fr",
    "SEND_RATE_PER_SECOND": "fast",
    "PER_CHAT_INTERVAL_SECONDS": "-1",
    "SWEEP_INTERVAL_SECONDS": "0",
    "POLLING_TIMEOUT_SECONDS": "51",
    "HTTP_TIMEOUT_SECONDS": "0",
    "SEND_READ_TIMEOUT_SECONDS": "-3",
    "TELEGRAM_PAID_BROADCAST": "maybe",
    "PAID_BROADCAST_RATE_PER_SECOND": "1001",
    "BROADCAST_SIGNOFF": "sometimes",
    "CONCURRENT_UPDATES": "0",
    "WORK_START": "25:00",
    "WORK_END": "noon",
    "MAX_TRIP_DAYS": "0",
    "APPROVAL_REMIND_AFTER_MINUTES": "0",
    "ESCALATE_BEFORE_DEPARTURE_MINUTES": "-5",
    "ESCALATE_AFTER_MINUTES": "0",
    "ADMIN_ERROR_ALERT_INTERVAL_SECONDS": "-1",
    "ALERT_ACK_MINUTES": "0",
    "CHECKIN_HOUR": "8h",
    "CHECKIN_REMIND_MINUTES": "0",
    "MONITOR_DAYS": "61",
    "DECLARATION_REMINDERS": "2h,soon",
    "RETURN_GRACE": "-6h",
    "QUIET_HOURS": "late",
    "ACK_REMIND_AFTER": "0h",
    "DIGEST_HOUR": "7:30pm",
    "WEEKLY_DIGEST_WEEKDAY": "7",
    "OVERSIGHT_DIRECTIVE_DAYS": "0",
    "OVERSIGHT_SYMPTOM_DAYS": "0",
    "DISTRICT_LINES": "501",
    "LOG_LEVEL": "LOUD",
    "IMPORT_MAX_BYTES": "0",
    "IMPORT_MAX_ROWS": "-1",
    "WEBHOOK_PORT": "0",
    "LEASE_SECONDS": "0.5",
    "HOME_PROVINCE": "Atlantis",
    "RETENTION_HEALTH_DAYS": "0",
    "RETENTION_RETURNS_DAYS": "-1",
    "RETENTION_MONITORING_DAYS": "ninety",
    "RETENTION_TRAVEL_DAYS": "0",
    "RETENTION_AUDIT_DAYS": "0",
    "RETENTION_OUTBOX_DAYS": "0",
    "RETENTION_EXPORTS_DAYS": "0",
    "RETENTION_LEAVERS_DAYS": "0",
    "RETENTION_RECORDS_DAYS": "0",
    "RETENTION_DIRECTIVE_READS_DAYS": "0",
    "RETENTION_ABSENCES_DAYS": "-1",
    "RETENTION_DRAFTS_DAYS": "two weeks",
    "RETENTION_CONSENTS_DAYS": "0",
    "RETENTION_VIOLATIONS_DAYS": "0",
    "RETENTION_DUTY_SHIFTS_DAYS": "-3",
    "RETENTION_PRIVACY_REQUESTS_DAYS": "five years",
    "RETENTION_UPLOADS_DAYS": "0",
    "RETENTION_UPDATES_DAYS": "0",
    "RETENTION_FAILED_UPDATES_DAYS": "0",
    "RETENTION_PURGE_HOUR": "2:30am",
    "RETENTION_BATCH": "0",
    "BREACH_NOTIFY_HOURS": "0",
    "BREACH_REMINDERS": "24h,later",
    "DATA_STORED_IN_VIETNAM": "maybe",
    "PRIVACY_BASIS": "legitimate_interest",
    "PRIVACY_NOTICE_VERSION": "0",
    "PRIVACY_ACK_WORKING_DAYS": "0",
    "PRIVACY_VIEW_DAYS": "ten",
    "PRIVACY_WITHDRAW_DAYS": "0",
    "PRIVACY_DELETE_DAYS": "-20",
    "PRIVACY_REMIND_BEFORE": "soon",
    "PRIVACY_MINIMAL_MESSAGES": "maybe",
    "PRIVACY_DETAIL_TTL": "0h",
    "ZALO_SIGNATURE_ID": "both",
    "ZALO_REQUESTS_PER_MINUTE": "4001",  # Zalo's own cap is 4,000 a minute per app
    "ZALO_TEMPLATE_MAX_CHARS": "5",
}
MORE_INVALID = [  # other ways to get the same settings wrong
    ("DECLARATION_REMINDERS", ""),
    ("DECLARATION_REMINDERS", "2h,,12h"),
    ("RETURN_GRACE", "6 hours"),
    ("SEND_RATE_PER_SECOND", "0"),
    ("MONITOR_DAYS", "two weeks"),
    ("HOME_PROVINCE", "Bắc Giang"),  # part of Bắc Ninh since 2025: named as such
    ("WORK_END", "07:00"),  # before WORK_START
    ("ALERT_ACK_MINUTES", "1.5"),  # whole minutes, as the name says
    ("ALERT_ACK_MINUTES", "15m"),
    ("APPROVAL_REMIND_AFTER_MINUTES", "9" * 30),  # longer than a year (and than a timedelta)
    ("ADMIN_ERROR_ALERT_INTERVAL_SECONDS", "²"),
    ("ESCALATE_AFTER_MINUTES", "-" + "9" * 30),
    ("RETENTION_BATCH", "10001"),
    ("BREACH_REMINDERS", "-6h"),
]
ANY_TEXT = {  # free text or a path: no value is refused when the settings are read
    "TELEGRAM_BOT_TOKEN",  # checked when the bot starts (require_token, below)
    "TELEGRAM_API_BASE_URL",
    "TELEGRAM_BOT_USERNAME",
    "DATABASE_PATH",
    "EXPORTS_DIR",
    "FILES_DIR",
    "CASE_ALERT_ROLES",
    "HEALTH_CONTACT_DEFAULT",
    "WEBHOOK_URL",  # these three are checked when webhook mode starts (require_webhook, below)
    "WEBHOOK_SECRET",
    "WEBHOOK_LISTEN",
    "INSTANCE_NAME",
    "PRIVACY_CONTROLLER",
    "PRIVACY_DPO_CONTACT",
    "PRIVACY_DPO_STAFF_ID",
    "PRIVACY_RETENTION_TEXT",
    "ZALO_APP_ID",  # the Zalo settings are checked together when Zalo starts (require_zalo)
    "ZALO_OA_ID",
    "ZALO_APP_SECRET",
    "ZALO_OA_SECRET_KEY",
    "ZALO_REFRESH_TOKEN",
    "ZALO_API_BASE_URL",
    "ZALO_OAUTH_BASE_URL",
    "ZALO_FORM_IMAGE_URL",
    "ZALO_TEMPLATE_ID",
    "ZALO_TEMPLATE_TEXT_PARAM",
    "ZALO_TEMPLATE_NAME_PARAM",
}


@pytest.fixture(autouse=True)
def _no_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def test_every_setting_has_an_invalid_value_here_or_takes_any_text() -> None:
    names = {name.upper() for name in Settings.model_fields}
    assert names == INVALID.keys() | ANY_TEXT, (
        "a setting without an error-line case: add it to INVALID (or ANY_TEXT)"
    )


@pytest.mark.parametrize(("name", "value"), [*INVALID.items(), *MORE_INVALID])
def test_an_invalid_value_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None)
    line = str(refused.value)
    assert "\n" not in line
    assert line.startswith(f"{name} is invalid: ") and line.endswith("; fix it in .env")
    assert "Value error" not in line and "pydantic" not in line


@pytest.mark.parametrize(
    ("token", "says"),
    [("", "TELEGRAM_BOT_TOKEN is not set"), ("  ", "TELEGRAM_BOT_TOKEN is not set"),
     ("no-colon", "TELEGRAM_BOT_TOKEN looks wrong")],
)  # fmt: skip
def test_the_token_is_checked_when_the_bot_starts(
    monkeypatch: pytest.MonkeyPatch, token: str, says: str
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    with pytest.raises(SettingsError, match=says) as refused:
        load_settings(_env_file=None).require_token()
    assert "\n" not in str(refused.value)


def test_the_token_stays_out_of_reprs_and_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:SECRET-part-abcdefghijklmnopqrstuvwxyz")
    settings = load_settings(_env_file=None)
    assert "SECRET" not in repr(settings) and "SECRET" not in str(settings.model_dump())
    assert settings.require_token() == "123456:SECRET-part-abcdefghijklmnopqrstuvwxyz"


def test_the_example_file_reads_as_the_defaults() -> None:
    """.env.example's text forms (2h,12h,20h; 6h; 4h) give the same durations as the defaults."""
    example = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert example.declaration_reminders == defaults.declaration_reminders == (
        timedelta(hours=2), timedelta(hours=12), timedelta(hours=20),
    )  # fmt: skip
    assert example.return_grace == defaults.return_grace == timedelta(hours=6)
    assert example.ack_remind_after == defaults.ack_remind_after == timedelta(hours=4)
    assert example.breach_reminders == defaults.breach_reminders == (
        timedelta(hours=72), timedelta(hours=24), timedelta(hours=6),
    )  # fmt: skip
    retention = [name for name in Settings.model_fields if name.startswith("retention_")]
    assert [getattr(example, n) for n in retention] == [getattr(defaults, n) for n in retention]
    privacy = [name for name in Settings.model_fields if name.startswith("privacy_")]
    assert [getattr(example, n) for n in privacy] == [getattr(defaults, n) for n in privacy]
    assert example.privacy_detail_ttl == timedelta(hours=24)


@pytest.mark.parametrize(
    ("text", "duration"),
    [("2h", timedelta(hours=2)), ("90m", timedelta(minutes=90)), ("1d", timedelta(days=1)),
     ("24H", timedelta(hours=24)), ("30min", timedelta(minutes=30)), (" 1.5 ", timedelta(hours=1.5))],
)  # fmt: skip
def test_durations_keep_their_text_forms(
    monkeypatch: pytest.MonkeyPatch, text: str, duration: timedelta
) -> None:
    monkeypatch.setenv("RETURN_GRACE", text)
    monkeypatch.setenv("DECLARATION_REMINDERS", f"{text},{text}")
    settings = load_settings(_env_file=None)
    assert settings.return_grace == duration
    assert settings.declaration_reminders == (duration, duration)


def test_exports_stay_in_the_files_folder_beside_the_database_unless_exports_dir_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "db" / "khaibao.db"))
    settings = load_settings(_env_file=None)
    assert settings.exports_folder == tmp_path / "db" / "files" / "exports"
    monkeypatch.setenv("EXPORTS_DIR", " ")  # EXPORTS_DIR= as in .env.example
    monkeypatch.setenv("FILES_DIR", " ")
    assert load_settings(_env_file=None).exports_folder == tmp_path / "db" / "files" / "exports"
    monkeypatch.setenv("FILES_DIR", str(tmp_path / "own"))
    assert load_settings(_env_file=None).exports_folder == tmp_path / "own" / "exports"
    monkeypatch.setenv("EXPORTS_DIR", str(tmp_path / "registers"))
    settings = load_settings(_env_file=None)
    assert settings.exports_folder == tmp_path / "registers"
    assert settings.upload_folders == (tmp_path / "own", tmp_path / "registers")


def test_counted_durations_are_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    """…_MINUTES and …_SECONDS settings are whole numbers of their unit, held as timedelta."""
    defaults = load_settings(_env_file=None)
    assert defaults.approval_remind_after_minutes == timedelta(hours=2)
    assert defaults.escalate_after_minutes == timedelta(days=1)
    assert defaults.admin_error_alert_interval_seconds == timedelta(minutes=5)
    monkeypatch.setenv("ALERT_ACK_MINUTES", " 20 ")
    monkeypatch.setenv("ESCALATE_BEFORE_DEPARTURE_MINUTES", "0")
    monkeypatch.setenv("ADMIN_ERROR_ALERT_INTERVAL_SECONDS", "0")
    settings = load_settings(_env_file=None)
    assert settings.alert_ack_minutes == timedelta(minutes=20)
    assert settings.escalate_before_departure_minutes == timedelta(0)
    assert settings.admin_error_alert_interval_seconds == timedelta(0)


DURATION_TEXT = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\A ?[-+]?(\d{1,400}(\.\d*)?(e\d{1,3})?|inf|nan|infinity) ?(d|h|m|min)?\Z"),
)


@given(DURATION_TEXT)
def test_a_duration_is_read_or_refused_never_crashes(text: str) -> None:
    try:
        span = parse_duration(text)
    except ValueError as refusal:
        assert repr(text) in str(refusal)
    else:
        assert span > timedelta(0)


@given(DURATION_TEXT)
def test_any_duration_text_in_a_setting_is_read_or_one_line(text: str) -> None:
    try:
        settings = load_settings(_env_file=None, return_grace=text, ack_remind_after=text)
    except SettingsError as refused:
        line = str(refused)
        assert "\n" not in line and line.startswith(("RETURN_GRACE", "ACK_REMIND_AFTER"))
    else:
        assert settings.return_grace == settings.ack_remind_after == parse_duration(text)


@pytest.mark.parametrize("text", ["inf", "1e300h", "nan", "99999999999999999999d"])
def test_endless_or_huge_durations_are_refused_in_one_line(text: str) -> None:
    with pytest.raises(SettingsError, match=r"^RETURN_GRACE is invalid: .*; fix it in \.env$"):
        load_settings(_env_file=None, return_grace=text)


@given(st.sampled_from(sorted(Settings.model_fields)), st.text(max_size=30))
def test_any_text_in_any_setting_is_read_or_one_line(name: str, text: str) -> None:
    try:
        load_settings(_env_file=None, **{name: text})
    except SettingsError as refused:
        line = str(refused)
        assert "\n" not in line and line.startswith(f"{name.upper()} is invalid: ")


@pytest.mark.parametrize(
    ("url", "secret", "named"),
    [
        ("", "s" * 16, "WEBHOOK_URL"),
        ("bot.example.gov.vn/telegram", "s" * 16, "WEBHOOK_URL"),
        ("https://bot.example.gov.vn/telegram", "", "WEBHOOK_SECRET"),
        ("https://bot.example.gov.vn/telegram", "too-short", "WEBHOOK_SECRET"),
        ("https://bot.example.gov.vn/telegram", "có dấu và dấu cách 12345", "WEBHOOK_SECRET"),
    ],
)
def test_webhook_mode_names_the_setting_it_lacks(url: str, secret: str, named: str) -> None:
    settings = Settings(_env_file=None, webhook_url=url, webhook_secret=secret)  # type: ignore[call-arg]
    with pytest.raises(SettingsError, match=named):
        settings.require_webhook()


def test_webhook_mode_takes_a_good_secret() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        webhook_url="https://bot.example.gov.vn/telegram",
        webhook_secret="a" * 64,
    )
    assert settings.require_webhook() == "a" * 64


def test_zalo_is_on_with_its_app_id_and_then_needs_its_keys() -> None:
    assert Settings(_env_file=None).messengers == ("telegram",)  # type: ignore[call-arg]
    both = Settings(_env_file=None, telegram_bot_token="1:x", zalo_app_id="36")  # type: ignore[call-arg]
    assert both.messengers == ("telegram", "zalo")
    alone = Settings(_env_file=None, zalo_app_id="36", zalo_oa_id="38")  # type: ignore[call-arg]
    assert alone.messengers == ("zalo",)
    with pytest.raises(SettingsError) as missing:
        alone.require_zalo()
    assert missing.value.setting == "ZALO_APP_SECRET"
    ready = Settings(  # type: ignore[call-arg]
        _env_file=None,
        zalo_app_id="36",
        zalo_oa_id="38",
        zalo_app_secret="s" * 20,
        zalo_oa_secret_key="k" * 20,
        zalo_api_base_url="openapi.zalo.me",
    )
    with pytest.raises(SettingsError) as url:
        ready.require_zalo()
    assert url.value.setting == "ZALO_API_BASE_URL"
    assert {"s" * 20, "k" * 20} <= set(ready.secret_values())


def test_several_instances_keep_their_files_in_files_dir_not_beside_one_database(
    tmp_path: Path,
) -> None:
    alone = Settings(_env_file=None)  # type: ignore[call-arg]
    alone.require_shared_files()  # one instance: files/ beside the database is fine
    several = Settings(_env_file=None, instance_name="web-1")  # type: ignore[call-arg]
    with pytest.raises(SettingsError, match="FILES_DIR") as raised:
        several.require_shared_files()
    assert raised.value.setting == "FILES_DIR"
    shared = Settings(_env_file=None, instance_name="web-1", files_dir=tmp_path)  # type: ignore[call-arg]
    shared.require_shared_files()
    assert shared.exports_folder.is_relative_to(tmp_path)
    assert all(folder.is_relative_to(tmp_path) for folder in shared.upload_folders)


def test_database_url_selects_postgresql_else_the_sqlite_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "k.db"))
    assert load_settings(_env_file=None).database_target == tmp_path / "k.db"
    url = "postgresql://khaibao:s3cret-pw@db.example:5432/khaibao"
    monkeypatch.setenv("DATABASE_URL", url)
    settings = load_settings(_env_file=None)
    assert settings.database_target == url
    assert "s3cret-pw" not in repr(settings)


def test_a_refused_database_url_does_not_show_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://khaibao:s3cret-pw@db.example/khaibao")
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None)
    assert "s3cret-pw" not in str(refused.value)
    assert str(refused.value).startswith("DATABASE_URL is invalid: ")
