"""Settings, read once from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

import math
import re
from datetime import time, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.directory_files import IMPORT_MAX_BYTES, IMPORT_MAX_ROWS
from bot.domain.provinces import search_provinces
from bot.domain.reminders import QuietHours

TELEGRAM_API = "https://api.telegram.org/bot"
ZALO_API = "https://openapi.zalo.me"
ZALO_OAUTH = "https://oauth.zaloapp.com"
# The picture on Zalo's form that asks for the phone (every source shows one; whether Zalo
# requires it is not known): Zalo's own share logo unless ZALO_FORM_IMAGE_URL names the office's.
ZALO_FORM_IMAGE = "https://stc-zaloprofile.zdn.vn/pc/v1/images/zalo_sharelogo.png"
_SECRET_NAME = re.compile(r"token|secret|password|_key$")
# What Telegram accepts as a webhook's secret_token (1-256 of these); at least 16 here.
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")
TOKEN_FORMAT = re.compile(r"\d{5,12}:[A-Za-z0-9_-]{30,50}", re.ASCII)
LONGEST_SETTING = timedelta(days=366)


def _whole(unit: str) -> BeforeValidator:
    """A setting whose name carries `unit` (…_MINUTES, …_SECONDS): a whole number of them."""

    def read(value: Any) -> Any:
        if isinstance(value, timedelta):
            return value
        text = str(value).strip()
        if isinstance(value, bool) or not (text.isascii() and text.lstrip("-").isdigit()):
            raise ValueError(f"must be a whole number of {unit}, like 15")
        if abs(int(text)) > LONGEST_SETTING / timedelta(**{unit: 1}):
            raise ValueError(f"{text} {unit} is more than a year")
        return timedelta(**{unit: int(text)})

    return BeforeValidator(read)


Minutes = Annotated[timedelta, _whole("minutes")]
Seconds = Annotated[timedelta, _whole("seconds")]


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line naming it and how to fix it.

    `setting`, `kind` (invalid, missing, malformed) and `reason` let the command line say it in
    the office's language."""

    def __init__(self, message: str, setting: str = "", kind: str = "invalid", reason: str = ""):
        super().__init__(message)
        self.setting = setting
        self.kind = kind
        self.reason = reason


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr = SecretStr("")  # shown as ********** in logs and reprs
    telegram_api_base_url: str = TELEGRAM_API
    telegram_bot_username: str = ""
    database_path: Path = Path("data/khaibao.db")
    # postgresql://user:password@host/dbname: PostgreSQL (a city, several instances); unset: the
    # SQLite file DATABASE_PATH
    database_url: SecretStr = SecretStr("")
    files_dir: Path | None = None  # the bot's own files; unset: files/ beside the database
    exports_dir: Path | None = None  # registers, reports, charts; unset: FILES_DIR/exports
    timezone: str = "Asia/Ho_Chi_Minh"
    default_language: str = "vi"
    log_level: str = "INFO"  # DEBUG, INFO, WARNING or ERROR; secrets are masked at every level
    send_rate_per_second: float = Field(default=25.0, gt=0, le=10_000)
    telegram_paid_broadcast: bool = False  # directive copies with allow_paid_broadcast (Stars)
    paid_broadcast_rate_per_second: float = Field(default=1000.0, gt=0, le=1000)
    # Which directives a leader signs off before they go out: `district` (those of the whole
    # district), `all` (a ward's or a department's too), `none`.
    broadcast_signoff: Literal["district", "all", "none"] = "district"
    per_chat_interval_seconds: float = Field(default=1.0, ge=0)
    sweep_interval_seconds: float = Field(default=2.0, gt=0)
    polling_timeout_seconds: int = Field(default=30, ge=0, le=50)
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    send_read_timeout_seconds: float = Field(default=30.0, gt=0)
    concurrent_updates: int = Field(default=16, ge=1, le=256)
    # Webhook mode (`python -m bot run --webhook`): Telegram posts updates to WEBHOOK_URL (https,
    # a reverse proxy in front), which forwards them to WEBHOOK_LISTEN:WEBHOOK_PORT.
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: str = ""
    # Several instances on one database (README "Several instances"): this one's name among them
    # (unset: host name and WEBHOOK_PORT), and how long a lease (the sweep, the sender, a person's
    # updates) outlives its holder's last renewal before another instance takes it over.
    instance_name: str = ""
    lease_seconds: float = Field(default=6.0, ge=1.0, le=300.0)
    home_province: str = "Hà Nội"
    work_start: time = time(8, 0)
    work_end: time = time(17, 0)
    max_trip_days: int = Field(default=30, ge=1)
    # Durations set as a whole number of the unit in their name (APPROVAL_REMIND_AFTER_MINUTES=120).
    approval_remind_after_minutes: Minutes = timedelta(minutes=120)
    escalate_before_departure_minutes: Minutes = timedelta(minutes=180)  # 0 allowed
    escalate_after_minutes: Minutes = timedelta(minutes=1440)
    admin_error_alert_interval_seconds: Seconds = timedelta(seconds=300)  # 0 allowed
    alert_ack_minutes: Minutes = timedelta(minutes=15)
    checkin_hour: time = time(8, 0)
    checkin_remind_minutes: Minutes = timedelta(minutes=240)
    monitor_days: int = Field(default=14, ge=1, le=60)
    case_alert_roles: str = "party_secretary,ubnd_chair,health_officer"
    health_contact_default: str = ""
    declaration_reminders: Annotated[tuple[timedelta, ...], NoDecode] = (
        timedelta(hours=2),
        timedelta(hours=12),
        timedelta(hours=20),
    )
    return_grace: timedelta = timedelta(hours=6)
    quiet_hours: str = "22:00-06:00"  # no reminders to people then; "none" to switch off
    ack_remind_after: timedelta = timedelta(hours=4)  # a directive not read is reminded once then
    digest_hour: time = time(7, 30)  # the daily digest to unit heads (and the weekly one to admins)
    weekly_digest_weekday: int = Field(default=0, ge=0, le=6)  # 0 = Monday
    oversight_directive_days: int = Field(
        default=14, ge=1
    )  # "latest directives" = sent in these days
    oversight_symptom_days: int = Field(default=7, ge=1)  # symptom reports shown in /unit
    import_max_bytes: int = Field(default=IMPORT_MAX_BYTES, ge=1)  # a directory file's size
    import_max_rows: int = Field(default=IMPORT_MAX_ROWS, ge=1)  # and its data rows
    district_lines: int = Field(default=40, ge=1, le=500)  # units listed in /district, worst first
    # Retention (README "Retention"): days each kind of record is kept after its purpose ends.
    retention_health_days: int = Field(default=90, ge=1)  # symptom and case reports
    retention_returns_days: int = Field(default=90, ge=1)  # return declarations
    retention_monitoring_days: int = Field(default=90, ge=1)  # monitorings and their check-ins
    retention_travel_days: int = Field(default=365, ge=1)  # travel requests, after the return
    retention_audit_days: int = Field(default=730, ge=1)  # audit entries, directive copies
    retention_outbox_days: int = Field(default=30, ge=1)  # messages already sent
    retention_exports_days: int = Field(default=7, ge=1)  # files under EXPORTS_DIR
    retention_leavers_days: int = Field(default=30, ge=1)  # health data of people who left
    retention_records_days: int = Field(default=1825, ge=1)  # breach records, purge entries
    retention_directive_reads_days: int = Field(default=730, ge=1)  # who got/read a directive
    retention_absences_days: int = Field(default=365, ge=1)  # declared leave, after its last day
    retention_drafts_days: int = Field(default=14, ge=1)  # conversations left half-way
    retention_consents_days: int = Field(default=1825, ge=1)  # ledger proof, after superseded/left
    retention_violations_days: int = Field(default=730, ge=1)  # violations recorded on staff
    retention_duty_shifts_days: int = Field(default=365, ge=1)  # duty shifts, after their end
    retention_privacy_requests_days: int = Field(default=1825, ge=1)  # closed data requests
    retention_uploads_days: int = Field(default=30, ge=1)  # directory uploads, once expired
    retention_updates_days: int = Field(default=7, ge=1)  # handled update ids and inbox rows
    retention_failed_updates_days: int = Field(default=14, ge=1)  # updates given up, with body
    retention_purge_hour: time = time(2, 30)  # the daily purge
    retention_batch: int = Field(default=500, ge=1, le=10_000)  # rows per purge transaction
    # Breach register (README "Breach register and processing register").
    breach_notify_hours: int = Field(default=72, ge=1)  # the authority is told within
    breach_reminders: Annotated[tuple[timedelta, ...], NoDecode] = (
        timedelta(hours=72),
        timedelta(hours=24),
        timedelta(hours=6),
    )  # time left before the deadline at which the officer and the admins are reminded
    privacy_dpo_staff_id: str = ""  # gets breach reminders and data requests (else the admins)
    data_stored_in_vietnam: bool = True  # the database's server; Telegram is always abroad
    # Personal data (README "Personal data"): the basis, the notice, the rights' deadlines.
    privacy_basis: Literal["consent", "state_duty"] = "consent"
    privacy_notice_version: int = Field(default=1, ge=1)  # raise it: everyone is asked again
    privacy_controller: str = ""  # the office responsible for the data, named in the notice
    privacy_dpo_contact: str = ""  # how to reach the data protection officer
    privacy_retention_text: str = ""  # how long data is kept, as the notice says it
    privacy_ack_working_days: int = Field(default=2, ge=1)
    privacy_view_days: int = Field(default=10, ge=1)  # view, correct, copy
    privacy_withdraw_days: int = Field(default=15, ge=1)  # withdraw, restrict, object
    privacy_delete_days: int = Field(default=20, ge=1)
    privacy_remind_before: timedelta = timedelta(days=2)  # the responsible admin is reminded
    privacy_minimal_messages: bool = True  # health alerts name who and what; details on a tap
    privacy_detail_ttl: timedelta = timedelta(hours=24)  # a shown detail is deleted after
    # Zalo Official Account (README "Zalo Official Account"): on when ZALO_APP_ID is set.
    zalo_app_id: str = ""
    zalo_oa_id: str = ""
    zalo_app_secret: SecretStr = SecretStr("")  # the app's secret: token refresh
    zalo_oa_secret_key: SecretStr = SecretStr("")  # the webhook page's key: event signatures
    zalo_refresh_token: SecretStr = SecretStr("")  # the first one; later ones live in the database
    zalo_api_base_url: str = ZALO_API
    zalo_oauth_base_url: str = ZALO_OAUTH
    # Which id starts the signed string: `app_id`, `oa_id`, or empty: either until an event shows.
    zalo_signature_id: Literal["", "app_id", "oa_id"] = ""
    zalo_requests_per_minute: int = Field(default=3600, ge=1, le=4000)  # Zalo's cap: 4,000/app
    zalo_form_image_url: str = ZALO_FORM_IMAGE  # the picture on Zalo's «share your phone» form
    # An approved ZBS template for people outside the 7-day window (empty: none; messages wait).
    zalo_template_id: str = ""
    zalo_template_text_param: str = "message"  # the template's parameter that carries the text
    zalo_template_name_param: str = ""  # a parameter for the person's name, if the template has one
    zalo_template_max_chars: int = Field(default=400, ge=10, le=2000)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value().strip()
        if url and not url.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql:// (or be empty for DATABASE_PATH)")
        return SecretStr(url)

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in ("vi", "en"):
            raise ValueError("must be 'vi' or 'en'")
        return value

    @field_validator("zalo_form_image_url", mode="before")
    @classmethod
    def _zalo_logo_when_empty(cls, value: Any) -> Any:
        return ZALO_FORM_IMAGE if isinstance(value, str) and not value.strip() else value

    @field_validator("files_dir", "exports_dir", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "return_grace",
        "ack_remind_after",
        "privacy_remind_before",
        "privacy_detail_ttl",
        mode="before",
    )
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("declaration_reminders", "breach_reminders", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(parse_duration(part) for part in value.split(","))
        return value

    @field_validator(
        "approval_remind_after_minutes",
        "escalate_after_minutes",
        "alert_ack_minutes",
        "checkin_remind_minutes",
    )
    @classmethod
    def _at_least_a_minute(cls, value: timedelta) -> timedelta:
        if value < timedelta(minutes=1):
            raise ValueError("must be at least 1 minute")
        return value

    @field_validator("escalate_before_departure_minutes", "admin_error_alert_interval_seconds")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must not be negative")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.strip().upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.strip().upper()

    @field_validator(
        "declaration_reminders",
        "return_grace",
        "ack_remind_after",
        "breach_reminders",
        "privacy_remind_before",
        "privacy_detail_ttl",
    )
    @classmethod
    def _positive(cls, value: timedelta | tuple[timedelta, ...]) -> Any:
        """Also for a value given as a timedelta (code, tests), which skips parse_duration."""
        parts = value if isinstance(value, tuple) else (value,)
        if not parts or min(parts) <= timedelta(0):
            raise ValueError("must be positive, like 2h, 90m or 1d")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @field_validator("home_province")
    @classmethod
    def _one_of_the_34_units(cls, value: str) -> str:
        return home_unit_name(value)

    @field_validator("work_end")
    @classmethod
    def _after_work_start(cls, value: time, info: ValidationInfo) -> time:
        start = info.data.get("work_start")
        if isinstance(start, time) and value <= start:
            raise ValueError(f"must be after WORK_START ({start:%H:%M})")
        return value

    @property
    def telegram_on(self) -> bool:
        return bool(self.telegram_bot_token.get_secret_value().strip())

    @property
    def zalo_on(self) -> bool:
        return bool(self.zalo_app_id.strip())

    @property
    def messengers(self) -> tuple[str, ...]:
        """The channels staff reach the bot on: Telegram when its token is set, Zalo when its
        app id is; Telegram alone when neither is (the setting then asked for is its token)."""
        found = (("telegram",) if self.telegram_on else ()) + (("zalo",) if self.zalo_on else ())
        return found or ("telegram",)

    def require_zalo(self) -> None:
        """The Zalo settings checked together, once Zalo is on."""
        needed = {
            "ZALO_OA_ID": self.zalo_oa_id.strip(),
            "ZALO_APP_SECRET": self.zalo_app_secret.get_secret_value().strip(),
            "ZALO_OA_SECRET_KEY": self.zalo_oa_secret_key.get_secret_value().strip(),
        }
        for name, value in needed.items():
            if not value:
                raise SettingsError(
                    f"{name} is not set: ZALO_APP_ID is, so Zalo is on and needs it too "
                    "(from the app's page on developers.zalo.me); fix it in .env",
                    name,
                    "missing",
                )
        for name, url in (
            ("ZALO_API_BASE_URL", self.zalo_api_base_url),
            ("ZALO_OAUTH_BASE_URL", self.zalo_oauth_base_url),
            ("ZALO_FORM_IMAGE_URL", self.zalo_form_image_url),
        ):
            if not url.startswith(("https://", "http://")):
                raise SettingsError(
                    f"{name} must be an http(s) address; fix it in .env", name, "invalid"
                )

    @property
    def home_is_province(self) -> bool:
        """True when the home unit is a province (texts say «tỉnh», not «thành phố»)."""
        found = search_provinces(self.home_province, limit=1)
        return bool(found) and found[0].province.kind == "province"

    @property
    def quiet(self) -> QuietHours:
        start, end = parse_quiet_hours(self.quiet_hours)
        return QuietHours(start, end, self.tz)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def database_target(self) -> str | Path:
        """What `storage.engine.open_database` opens: DATABASE_URL if set, else DATABASE_PATH."""
        return self.database_url.get_secret_value() or self.database_path

    @property
    def files_folder(self) -> Path:
        """The bot's own files (FILES_DIR, else files/ beside the database), resolved."""
        return (self.files_dir or self.database_path.resolve().parent / "files").resolve()

    @property
    def exports_folder(self) -> Path:
        """Where /export, directive reports and charts are written (EXPORTS_DIR, else an
        exports/ folder inside FILES_DIR)."""
        return (self.exports_dir or self.files_folder / "exports").resolve()

    @property
    def upload_folders(self) -> tuple[Path, ...]:
        """The only folders whose files the bot ever uploads: its files and its exports."""
        return (self.files_folder, self.exports_folder)

    @property
    def api_file_base_url(self) -> str:
        return self.telegram_api_base_url.replace("/bot", "/file/bot", 1)

    def require_token(self) -> str:
        token = self.telegram_bot_token.get_secret_value().strip()
        if not token:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and put "
                "TELEGRAM_BOT_TOKEN=... in .env (see .env.example)",
                "TELEGRAM_BOT_TOKEN",
                "missing",
            )
        if not TOKEN_FORMAT.fullmatch(token):
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN looks wrong: @BotFather gives digits, a colon and 30-50 "
                f"letters, digits, _ or -{_token_flaw(token)}; fix it in .env",
                "TELEGRAM_BOT_TOKEN",
                "malformed",
            )
        return token

    def secret_values(self) -> list[str]:
        """Every secret setting's value (the bot token, webhook and Zalo secrets, keys), for
        the log redaction: a setting is secret by its name."""
        values = []
        for name, field in type(self).model_fields.items():
            if _SECRET_NAME.search(name) or field.annotation is SecretStr:
                value = getattr(self, name)
                text = value.get_secret_value() if isinstance(value, SecretStr) else value
                if isinstance(text, str) and text.strip():
                    values.append(text.strip())
        return values

    def require_shared_files(self) -> None:
        """Several instances (INSTANCE_NAME set) keep their files where all of them reach them:
        FILES_DIR, not the default beside one instance's database file."""
        if self.instance_name.strip() and self.files_dir is None:
            raise SettingsError(
                "FILES_DIR is required when INSTANCE_NAME is set (several instances): a folder "
                "every instance reaches at the same path (a shared volume), for exports, "
                "uploaded files and pictures; set it in .env",
                "FILES_DIR",
                "missing",
            )

    def require_webhook(self) -> str:
        """The secret of webhook mode, once its settings are checked."""
        if not self.webhook_url.startswith(("https://", "http://")):
            raise SettingsError(
                "WEBHOOK_URL is not set: give the public https address Telegram should post "
                "updates to (e.g. https://bot.example.gov.vn/telegram); fix it in .env"
            )
        if not WEBHOOK_SECRET.fullmatch(self.webhook_secret):
            raise SettingsError(
                "WEBHOOK_SECRET is required in webhook mode: 16 to 256 characters A-Z, a-z, 0-9, "
                "_ and - (e.g. from `openssl rand -hex 32`); fix it in .env"
            )
        return self.webhook_secret


def _token_flaw(token: str) -> str:
    """What is wrong with a token, without ever showing it."""
    if any(ch.isspace() for ch in token):
        return " (this one contains a space)"
    if ":" not in token:
        return " (this one has no colon)"
    if not token.isascii() or re.search(r"[^0-9A-Za-z_:-]", token):
        return " (this one contains other characters)"
    return " (this one is not of that length)"


def load_settings(**overrides: Any) -> Settings:  # raw values: Settings validates them
    """Read the settings; a bad value becomes one SettingsError line naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "setting"
        reason = first["msg"].removeprefix("Value error, ")  # pydantic's prefix for our own checks
        raise SettingsError(
            f"{name} is invalid: {reason}; fix it in .env", name, "invalid", reason
        ) from None


def home_unit_name(text: str) -> str:
    """The official name of the provincial-level unit `text` names (name or alias), else an
    error that says what to write; a former province names the unit that absorbed it."""
    found = search_provinces(text, limit=1)
    match = found[0] if found and found[0].exact else None
    if match is None:
        raise ValueError(
            f"{text!r} is not one of the 34 provinces and cities (e.g. Hà Nội, Thái Nguyên, "
            "Hồ Chí Minh)"
        )
    if match.via == "absorbed":
        raise ValueError(
            f"{text!r} is part of {match.province.name} since 1 July 2025: "
            f"write HOME_PROVINCE={match.province.name}"
        )
    return match.province.name


def parse_duration(text: str) -> timedelta:
    """`2h`, `90m` (or `90min`), `1d` or a bare number of hours; positive."""
    cleaned = text.strip().lower()
    suffix = next((s for s in ("min", "d", "h", "m") if cleaned.endswith(s)), "")
    unit = {"d": "days", "m": "minutes", "min": "minutes"}.get(suffix, "hours")
    try:
        amount = float(cleaned.removesuffix(suffix) if suffix else cleaned)
    except ValueError:
        amount = math.nan
    if not math.isfinite(amount):
        raise ValueError(f"{text!r} is not a duration like 2h, 90m or 1d")
    if amount <= 0:
        raise ValueError(f"{text!r} must be positive")
    try:
        return timedelta(**{unit: amount})
    except OverflowError:
        raise ValueError(f"{text!r} is too long for a duration") from None


@cache
def parse_quiet_hours(text: str) -> tuple[time, time]:
    """`22:00-06:00` (may cross midnight) or `none`."""
    cleaned = text.strip().lower()
    if cleaned in ("none", "off", ""):
        return time(0, 0), time(0, 0)
    try:
        start, end = (time.fromisoformat(part.strip()) for part in cleaned.split("-"))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not like 22:00-06:00 or none") from exc
    return start, end
