"""The sandbox Zalo OA's state, shared by its API, its webhooks, its test API and the web page.

One `ZaloStore` holds what Zalo knows about one Official Account: the users and their last
interaction (under a clock the tests move), the messages the OA sent them, the tokens, the
uploads, and the events waiting to be posted to the OA's webhook. Whoever changes it calls
`notify()`, which wakes the webhook deliverer and the web page's long poll.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from bot.sandbox.zalo_model import (
    ACCESS_TOKEN_LIFETIME,
    APP_ID,
    APP_SECRET,
    ASSET_EXPIRED,
    AUTH_CODE_LIFETIME,
    BLOCKED,
    CS_WINDOW,
    DAY,
    FREE_WINDOW,
    HOUR,
    JSON,
    MAX_FILE_BYTES,
    MAX_IMAGE_BYTES,
    NIGHT_BAN,
    NIGHT_END_HOUR,
    NIGHT_START_HOUR,
    NOT_FOLLOWING,
    OA_ID,
    OA_NAME,
    OA_SECRET_KEY,
    OAUTH_INVALID_APP,
    OAUTH_INVALID_CODE,
    OAUTH_INVALID_PARAM,
    OAUTH_INVALID_REFRESH,
    OAUTH_INVALID_SECRET,
    OUTSIDE_WINDOW,
    QUOTA_USED,
    RATE_LIMITED,
    RATE_PER_MINUTE,
    REFRESH_TOKEN_LIFETIME,
    TOKEN_INVALID,
    UPLOAD_LIFETIME,
    VIETNAM_UTC_OFFSET,
    CsMessage,
    OAuthError,
    Upload,
    ZaloError,
    ZaloSent,
    ZaloUser,
    invalid,
    opaque_id,
)

FIRST_USER_ID = 5_400_000_000_000_000_000
FIRST_APP_USER_ID = 7_700_000_000_000_000_000
FILE_KINDS = {  # what /upload/file takes (UNVERIFIED list): suffix → MIME type, leading bytes
    ".pdf": ("application/pdf", b"%PDF"),
    ".doc": ("application/msword", bytes.fromhex("d0cf11e0a1b11ae1")),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        b"PK\x03\x04",
    ),
    ".csv": ("text/csv", b""),
}
IMAGE_KINDS = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


@dataclass
class ZaloEvent:
    """One webhook event: its body as posted (the raw bytes that are signed) and for whom."""

    seq: int
    user_id: str
    event_name: str
    body: JSON
    raw: bytes = b""

    def __post_init__(self) -> None:
        # Compact and not ASCII-escaped, unlike json.dumps' default: a receiver that checks the
        # signature over its own re-serialisation instead of the raw bytes fails, as on Zalo.
        self.raw = json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()

    @property
    def timestamp(self) -> str:
        return str(self.body["timestamp"])


@dataclass
class RefreshToken:
    expires_at: float
    used: bool = False


@dataclass
class Template:
    """An approved ZBS template: the names its template_data must give."""

    template_id: str
    params: tuple[str, ...]


@dataclass
class Counters:
    sent: int = 0  # cs messages accepted
    billable: int = 0  # of those, sent 48 h to 7 days after the user's last interaction
    refused: dict[int, int] = field(default_factory=dict)  # error code → answers
    refreshes: int = 0
    refresh_reuses: int = 0  # a refresh token presented again after it was used
    templates: int = 0
    uploads: int = 0
    downloads: int = 0  # files users sent, fetched from their links


class ZaloStore:
    """Zalo's side of one Official Account."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        app_id: str = APP_ID,
        oa_id: str = OA_ID,
        app_secret: str = APP_SECRET,
        oa_secret_key: str = OA_SECRET_KEY,
        rate_per_minute: int = RATE_PER_MINUTE,
        rate_window: float = 60.0,
        require_follow: bool = True,
        echoes: bool = True,
    ) -> None:
        """`clock`: Zalo's time in seconds (tests and the time dial move it further with
        `advance`); `rate_window`: the seconds `rate_per_minute` counts over (a bench may shrink
        both); `require_follow`: cs to a user who does not follow the OA is -213; `echoes`: post
        an `oa_send_*` event for each message the OA sends, as Zalo does."""
        self.base_clock = clock
        self.offset = 0.0
        self.app_id, self.oa_id = app_id, oa_id
        self.app_secret, self.oa_secret_key = app_secret, oa_secret_key
        self.rate_per_minute, self.rate_window = rate_per_minute, rate_window
        self.require_follow, self.echoes = require_follow, echoes
        self.expired_token_code = TOKEN_INVALID  # ZALO.md: an expired token is -216 (or -220)
        self.code_challenge: str | None = None  # set: the code grant needs the PKCE verifier
        # Set (to 8): the old rule, that many replies after each interaction, then -211, and
        # each answer carries `quota{quota_type, remain, total}`. None: unlimited, no `quota`.
        self.reply_quota: int | None = None
        self.users: dict[str, ZaloUser] = {}
        self.sent: dict[str, list[ZaloSent]] = {}
        self.uploads: dict[str, Upload] = {}  # the OA's, by attachment_id or token
        self.user_files: dict[str, Upload] = {}  # what users sent (fetched by their url)
        self.files_base_url = "http://127.0.0.1/_zalo/files"  # the server sets its own
        self.templates: dict[str, Template] = {}
        self.access_tokens: dict[str, float] = {}  # token → expiry
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.auth_codes: dict[str, float] = {}  # code → expiry (single use)
        self.counters = Counters()
        self.requests: list[tuple[str, JSON]] = []  # (endpoint, body) of every API call
        self.outbox: deque[ZaloEvent] = deque()  # events not yet handed to the deliverer
        self.events: list[ZaloEvent] = []  # every event made, in order
        self.broadcasts: list[JSON] = []
        self._log: dict[str, list[JSON | ZaloSent]] = {}
        self._call_times: deque[float] = deque()
        self.call_moments: list[float] = []  # monotonic, every API call (for peak_calls)
        self._seq = 0
        self._cursors: dict[str, int] = {}
        self.version = 0
        self._changed = asyncio.Event()
        self.stopping = asyncio.Event()

    # ----------------------------------------------------------------------- time and changes

    def now(self) -> float:
        return self.base_clock() + self.offset

    def now_ms(self) -> str:
        return str(int(self.now() * 1000))

    def advance(self, seconds: float) -> float:
        """Move Zalo's clock forward (tokens, uploads and the 7-day window all follow it)."""
        if seconds < 0:
            raise ValueError("Zalo's clock only moves forward")
        self.offset += seconds
        self.notify()
        return self.now()

    def notify(self, *, changed: bool = True) -> None:
        if changed:
            self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_signal(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    async def wait_change(self, since: int, timeout: float) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.version == since and not self.stopping.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self.wait_signal(remaining)
        return self.version

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    # ----------------------------------------------------------------------- users' actions

    def user(
        self, display_name: str = "Người dùng thử", *, user_id: str | None = None, phone: str = ""
    ) -> ZaloUser:
        """A Zalo user who has not yet followed or written to the OA."""
        number = len(self.users) + 1
        user = ZaloUser(
            user_id=user_id or str(FIRST_USER_ID + number),
            display_name=display_name,
            user_id_by_app=str(FIRST_APP_USER_ID + number),
            phone=phone,
        )
        self.users[user.user_id] = user
        return user

    def known(self, user_id: str) -> ZaloUser:
        user = self.users.get(user_id)
        if user is None:
            raise ValueError(f"unknown Zalo user {user_id!r}; make them with user() first")
        return user

    def _interacted(self, user: ZaloUser) -> None:
        user.last_interaction = self.now()
        user.replies = 0

    def _envelope(self, user: ZaloUser, event_name: str) -> JSON:
        return {"app_id": self.app_id, "user_id_by_app": user.user_id_by_app,
                "event_name": event_name, "sender": {"id": user.user_id},
                "recipient": {"id": self.oa_id}, "timestamp": self.now_ms()}  # fmt: skip

    def _user_message(self, user: ZaloUser, event_name: str, message: JSON, log: JSON) -> ZaloEvent:
        self._interacted(user)
        msg_id = opaque_id("user", self._next(), 19)
        body = {**self._envelope(user, event_name), "message": {**message, "msg_id": msg_id}}
        self._log.setdefault(user.user_id, []).append(
            {"from": "user", "msg_id": msg_id, "date": self.now(), **log}
        )
        return self.queue_event(user.user_id, body)

    def send_text(self, user: ZaloUser, text: str, *, quote_msg_id: str | None = None) -> ZaloEvent:
        message: JSON = {"text": text}
        if quote_msg_id is not None:
            message["quote_msg_id"] = quote_msg_id
        return self._user_message(user, "user_send_text", message, {"kind": "text", "text": text})

    def tap(self, user: ZaloUser, message: ZaloSent, title_contains: str) -> ZaloEvent:
        """The user taps an `oa.query.*` button: Zalo sends its payload as a `user_send_text`
        (shown in the chat for `oa.query.show`, hidden for `oa.query.hide`)."""
        if message.user_id != user.user_id:
            raise ValueError("that message was sent to someone else")
        payload = message.payload_of(title_contains)
        button = next(b for b in message.buttons if b.get("payload") == payload)
        log = {"kind": "tap", "text": payload, "button": button["title"],
               "hidden": button["type"] == "oa.query.hide",
               "message_id": message.message_id}  # fmt: skip
        return self._user_message(user, "user_send_text", {"text": payload}, log)

    def send_image(
        self, user: ZaloUser, data: bytes, *, caption: str = "", mime_type: str = "image/jpeg"
    ) -> ZaloEvent:
        stored = self._user_file(user, "image", data, "photo.jpg", mime_type)
        url = self.file_url(stored.upload_id)
        attachment = {"type": "image", "payload": {"url": url, "thumbnail": url}}
        message = {"text": caption, "attachments": [attachment]}
        log = {"kind": "image", "text": caption, "file": stored.to_json()}
        return self._user_message(user, "user_send_image", message, log)

    def send_location(self, user: ZaloUser, latitude: float, longitude: float) -> ZaloEvent:
        coordinates = {"latitude": str(latitude), "longitude": str(longitude)}
        message = {"text": "", "attachments": [{"type": "location",
                                                "payload": {"coordinates": coordinates}}]}  # fmt: skip
        log = {"kind": "location", "text": f"📍 {latitude}, {longitude}"}
        return self._user_message(user, "user_send_location", message, log)

    def send_sticker(self, user: ZaloUser, sticker_id: str = "bfe458bf64fa8da4d4eb") -> ZaloEvent:
        payload = {
            "id": sticker_id,
            "url": f"https://zalo-api.zadn.vn/api/emoticon/sticker/{sticker_id}",
        }
        message = {"text": "", "attachments": [{"type": "sticker", "payload": payload}]}
        return self._user_message(
            user, "user_send_sticker", message, {"kind": "sticker", "text": "🙂"}
        )

    def send_file(
        self,
        user: ZaloUser,
        data: bytes,
        name: str,
        mime_type: str = "application/octet-stream",
    ) -> ZaloEvent:
        stored = self._user_file(user, "file", data, name, mime_type)
        payload = {"url": self.file_url(stored.upload_id), "name": name, "size": str(len(data)),
                   "type": PurePosixPath(name).suffix.lstrip(".").lower(),
                   "checksum": hashlib.md5(data).hexdigest()}  # fmt: skip
        message = {"text": "", "attachments": [{"type": "file", "payload": payload}]}
        log = {"kind": "file", "text": name, "file": stored.to_json()}
        return self._user_message(user, "user_send_file", message, log)

    def submit_info(
        self, user: ZaloUser, *, phone: str | None = None, name: str | None = None
    ) -> ZaloEvent:
        """The user taps "share" on a request_user_info: `user_submit_info` with their phone
        (84…). Only after the OA asked them, as in Zalo."""
        if not user.asked_for_info:
            raise ValueError("the OA has not sent this user a request_user_info")
        info = {"name": name or user.display_name, "phone": phone or user.phone,
                "user_dob": "", "gender": "",
                "full_address": {"user_city": "", "user_ward": "", "user_address": ""}}  # fmt: skip
        if not info["phone"]:
            raise ValueError("the user has no phone number to share")
        self._interacted(user)
        user.shared_info = {"name": info["name"], "phone": info["phone"], "address": "",
                            "city": "", "district": ""}  # fmt: skip
        body = {**self._envelope(user, "user_submit_info"), "info": info}
        self._log.setdefault(user.user_id, []).append(
            {"from": "user", "kind": "submit_info", "text": info["phone"], "date": self.now()}
        )
        return self.queue_event(user.user_id, body)

    def follow(self, user: ZaloUser, source: str = "oa_profile") -> ZaloEvent:
        user.follower = True
        self._interacted(user)
        return self._follow_event(user, "follow", source)

    def unfollow(self, user: ZaloUser) -> ZaloEvent:
        user.follower = False
        return self._follow_event(user, "unfollow", "oa_profile")

    def receipt(self, user: ZaloUser, messages: list[ZaloSent], *, seen: bool = True) -> ZaloEvent:
        """`user_seen_message` (or `user_received_message`) for messages the OA sent them: the
        read receipts of directives. UNVERIFIED shape: `message.msg_ids`, a list."""
        if any(message.user_id != user.user_id for message in messages):
            raise ValueError("a receipt covers only messages sent to this user")
        name = "user_seen_message" if seen else "user_received_message"
        ids = [message.message_id for message in messages]
        body = {**self._envelope(user, name), "message": {"msg_ids": ids}}
        body["sender"], body["recipient"] = {"id": self.oa_id}, {"id": user.user_id}
        return self.queue_event(user.user_id, body)

    def block(self, user: ZaloUser, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the OA's messages: cs to them is -217."""
        user.blocked = blocked

    def _follow_event(self, user: ZaloUser, event_name: str, source: str) -> ZaloEvent:
        body = {"oa_id": self.oa_id, "follower": {"id": user.user_id},
                "user_id_by_app": user.user_id_by_app, "event_name": event_name,
                "source": source, "app_id": self.app_id, "timestamp": self.now_ms()}  # fmt: skip
        self._log.setdefault(user.user_id, []).append(
            {"from": "user", "kind": event_name, "text": "", "date": self.now()}
        )
        return self.queue_event(user.user_id, body)

    def queue_event(self, user_id: str, body: JSON) -> ZaloEvent:
        """Any event body, posted as given (a test may craft one Zalo might send)."""
        event = ZaloEvent(self._next(), user_id, str(body.get("event_name", "")), body)
        self.events.append(event)
        self.outbox.append(event)
        self.notify()
        return event

    def _user_file(
        self, user: ZaloUser, kind: str, data: bytes, name: str, mime_type: str
    ) -> Upload:
        upload_id = opaque_id(f"inbound-{user.user_id}", self._next(), 24)
        stored = Upload(upload_id, kind, data, name, mime_type, self.now())
        self.user_files[upload_id] = stored
        return stored

    def file_url(self, upload_id: str) -> str:
        """Where a user's image or file can be fetched (the server sets the base)."""
        return f"{self.files_base_url}/{upload_id}"

    def stored_file(self, upload_id: str) -> Upload | None:
        return self.uploads.get(upload_id) or self.user_files.get(upload_id)

    # ----------------------------------------------------------------------- tokens

    def issue_tokens(self) -> tuple[str, str]:
        """A fresh access/refresh pair, as the API Explorer gives an admin to seed the bot."""
        access, refresh = "zat-" + secrets.token_urlsafe(24), "zrt-" + secrets.token_urlsafe(24)
        self.access_tokens[access] = self.now() + ACCESS_TOKEN_LIFETIME
        self.refresh_tokens[refresh] = RefreshToken(self.now() + REFRESH_TOKEN_LIFETIME)
        return access, refresh

    def issue_auth_code(self) -> str:
        """The code the OA admin's consent sends to the callback (10 minutes, single use)."""
        code = "zac-" + secrets.token_urlsafe(16)
        self.auth_codes[code] = self.now() + AUTH_CODE_LIFETIME
        return code

    def check_access(self, token: str | None) -> None:
        expiry = self.access_tokens.get(token or "")
        if expiry is None:
            raise ZaloError(TOKEN_INVALID)
        if self.now() >= expiry:
            raise ZaloError(self.expired_token_code, "Access token has expired")

    def grant(self, secret_key: str | None, form: dict[str, str]) -> JSON:
        """`POST /v4/oa/access_token`: refresh_token or authorization_code grant."""
        if form.get("app_id") != self.app_id:
            raise OAuthError(OAUTH_INVALID_APP, "Invalid appId")
        if secret_key != self.app_secret:
            raise OAuthError(OAUTH_INVALID_SECRET, "Invalid secret key")
        grant_type = form.get("grant_type")
        if grant_type == "refresh_token":
            self._use_refresh_token(form.get("refresh_token", ""))
        elif grant_type == "authorization_code":
            self._use_auth_code(form.get("code", ""), form.get("code_verifier"))
        else:
            raise OAuthError(OAUTH_INVALID_PARAM, "Invalid grant_type")
        access, refresh = self.issue_tokens()
        return {"access_token": access, "refresh_token": refresh,
                "expires_in": str(int(ACCESS_TOKEN_LIFETIME))}  # fmt: skip

    def _use_refresh_token(self, token: str) -> None:
        record = self.refresh_tokens.get(token)
        if record is not None and record.used:
            self.counters.refresh_reuses += 1
        if record is None or record.used or self.now() >= record.expires_at:
            raise OAuthError(OAUTH_INVALID_REFRESH, "Invalid refresh token")
        record.used = True  # single use: the new pair replaces it
        self.counters.refreshes += 1

    def _use_auth_code(self, code: str, verifier: str | None) -> None:
        expiry = self.auth_codes.pop(code, None)
        if expiry is None or self.now() >= expiry:
            raise OAuthError(OAUTH_INVALID_CODE, "Invalid authorization code")
        if self.code_challenge is not None:
            digest = hashlib.sha256((verifier or "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != self.code_challenge:
                raise OAuthError(OAUTH_INVALID_CODE, "Invalid code verifier")

    def expire_access_tokens(self) -> None:
        """Every access token expires now (a test of the refresh path without moving time)."""
        for token in self.access_tokens:
            self.access_tokens[token] = min(self.access_tokens[token], self.now())

    # ----------------------------------------------------------------------- calls

    def admit_call(self, endpoint: str, body: JSON) -> None:
        """Every API call counts toward the app's rate limit (-32 beyond it)."""
        self.requests.append((endpoint, body))
        moment = time.monotonic()
        while self._call_times and moment - self._call_times[0] >= self.rate_window:
            self._call_times.popleft()
        if len(self._call_times) >= self.rate_per_minute:
            raise ZaloError(RATE_LIMITED)
        self._call_times.append(moment)
        self.call_moments.append(moment)

    def calls_in_window(self) -> int:
        return len(self._call_times)

    def peak_calls(self, window: float = 60.0) -> int:
        """The most API calls admitted within any `window` seconds (a bench's "under 4,000 a
        minute")."""
        peak, first = 0, 0
        for last, moment in enumerate(self.call_moments):
            while first < last and moment - self.call_moments[first] >= window:
                first += 1
            peak = max(peak, last - first + 1)
        return peak

    def note_refusal(self, code: int) -> None:
        self.counters.refused[code] = self.counters.refused.get(code, 0) + 1

    def window(self, user: ZaloUser) -> str:
        """ "free" (≤48 h since the last interaction), "billable" (≤7 days) or "closed"."""
        if user.last_interaction is None:
            return "closed"
        silent = self.now() - user.last_interaction
        if silent <= FREE_WINDOW:
            return "free"
        return "billable" if silent <= CS_WINDOW else "closed"

    def _reachable(self, user_id: str) -> ZaloUser:
        user = self.users.get(user_id)
        if user is None:
            raise invalid("user_id is invalid")
        if user.blocked:
            raise ZaloError(BLOCKED)
        if self.require_follow and not user.follower:
            raise ZaloError(NOT_FOLLOWING)
        return user

    def send_cs(self, cs: CsMessage) -> ZaloSent:
        """A parsed cs message: refused outside the 7-day window (-230) or with an unknown or
        expired upload; billable from 48 h after the user's last interaction."""
        user = self._reachable(cs.user_id)
        window = self.window(user)
        if window == "closed":
            raise ZaloError(OUTSIDE_WINDOW)
        upload = None if cs.upload_id is None else self._upload_for(cs)
        if cs.quote_message_id is not None and cs.quote_message_id not in self._user_msg_ids(user):
            raise invalid("quote_message_id is invalid")
        sent = ZaloSent(
            message_id=opaque_id("oa", self._next(), 32), user_id=user.user_id, kind=cs.kind,
            text=cs.text, sent_at=self.now(), billable=window == "billable",
            buttons=cs.buttons, element=cs.element, upload=upload, image_url=cs.image_url,
            quote_message_id=cs.quote_message_id,
        )  # fmt: skip
        if self.reply_quota is not None and user.replies >= self.reply_quota:
            raise ZaloError(QUOTA_USED)
        user.replies += 1
        if cs.kind == "request_user_info":
            user.asked_for_info = True
        self.counters.sent += 1
        self.counters.billable += sent.billable
        self._record(sent)
        return sent

    def _user_msg_ids(self, user: ZaloUser) -> set[object]:
        return {entry.get("msg_id") for entry in self._log.get(user.user_id, [])
                if isinstance(entry, dict)}  # fmt: skip

    def _upload_for(self, cs: CsMessage) -> Upload:
        upload = self.uploads.get(cs.upload_id or "")
        wanted = "file" if cs.kind == "file" else cs.kind
        if upload is None or upload.kind != wanted:
            raise invalid("attachment_id is invalid" if wanted != "file" else "token is invalid")
        if self.upload_expired(upload):
            raise ZaloError(ASSET_EXPIRED)
        return upload

    def _record(self, sent: ZaloSent) -> None:
        self.sent.setdefault(sent.user_id, []).append(sent)
        self._log.setdefault(sent.user_id, []).append(sent)
        if self.echoes:
            self._echo(sent)
        self.notify()

    def _echo(self, sent: ZaloSent) -> None:
        """`oa_send_*`: the OA's own message, sender and recipient swapped."""
        name = {"image": "oa_send_image", "gif": "oa_send_gif", "file": "oa_send_file",
                "request_user_info": "oa_send_list"}.get(sent.kind, "oa_send_text")  # fmt: skip
        message: JSON = {"msg_id": sent.message_id, "text": sent.text or ""}
        if sent.upload is not None or sent.image_url is not None:
            url = sent.image_url or self.file_url(sent.upload.upload_id if sent.upload else "")
            kind = "file" if sent.kind == "file" else "image"
            message["attachments"] = [{"type": kind, "payload": {"url": url}}]
        user = self.users[sent.user_id]
        body = {"app_id": self.app_id, "user_id_by_app": user.user_id_by_app,
                "event_name": name, "sender": {"id": self.oa_id},
                "recipient": {"id": user.user_id}, "message": message,
                "timestamp": self.now_ms()}  # fmt: skip
        self.queue_event(user.user_id, body)

    def approve_template(self, template_id: str, params: tuple[str, ...]) -> Template:
        template = Template(template_id, params)
        self.templates[template_id] = template
        return template

    def send_template(self, user_id: str, template_id: object, data: object) -> ZaloSent:
        """A ZBS template by UID: reaches a user outside the cs window; not at night (-234)."""
        user = self._reachable(user_id)
        template = self.templates.get(str(template_id))
        if template is None:
            raise invalid("template_id is invalid")
        if not isinstance(data, dict) or any(
            not isinstance(data.get(name), str) for name in template.params
        ):
            raise invalid("template_data is invalid")
        hour = int((self.now() + VIETNAM_UTC_OFFSET) // HOUR % 24)
        if hour >= NIGHT_START_HOUR or hour < NIGHT_END_HOUR:
            raise ZaloError(NIGHT_BAN)
        sent = ZaloSent(
            message_id=opaque_id("oa", self._next(), 32), user_id=user.user_id, kind="template",
            text=None, sent_at=self.now(), billable=True,
            template={"template_id": template.template_id, "template_data": dict(data)},
        )  # fmt: skip
        self.counters.templates += 1
        self._record(sent)
        return sent

    def react(self, user_id: str, icon: str, message_id: str) -> JSON:
        """A reaction on one of the user's messages (v2 message API's sender_action)."""
        if message_id not in self._user_msg_ids(self._reachable(user_id)):
            raise invalid("react_message_id is invalid")
        self._log[user_id].append({"from": "bot", "kind": "reaction", "text": icon,
                                   "react_message_id": message_id, "date": self.now()})  # fmt: skip
        self.notify()
        return {"message_id": opaque_id("react", self._next(), 32), "user_id": user_id}

    # ----------------------------------------------------------------------- uploads

    def upload(self, kind: str, data: bytes, name: str) -> Upload:
        """`/v2.0/oa/upload/{image,gif,file}`: jpg/png ≤1 MB, gif, PDF/DOC/DOCX/CSV ≤5 MB."""
        if not data:
            raise invalid("file is empty")
        if kind == "file":
            mime_type = self._file_type(data, name)
        elif kind == "gif":
            if not data.startswith(b"GIF8") or len(data) > MAX_FILE_BYTES:
                raise invalid("file is not a gif or is too large")
            mime_type = "image/gif"
        else:
            mime_type = self._image_type(data)
        stored = Upload(opaque_id(kind, self._next(), 32), kind, data, name, mime_type, self.now())
        self.uploads[stored.upload_id] = stored
        self.counters.uploads += 1
        return stored

    @staticmethod
    def _image_type(data: bytes) -> str:
        if len(data) > MAX_IMAGE_BYTES:
            raise invalid("image size exceeds 1MB")
        for magic, mime_type in IMAGE_KINDS.items():
            if data.startswith(magic):
                return mime_type
        raise invalid("image must be jpg or png")

    @staticmethod
    def _file_type(data: bytes, name: str) -> str:
        kind = FILE_KINDS.get(PurePosixPath(name).suffix.lower())
        if kind is None or not data.startswith(kind[1]):
            raise invalid("file type is not supported (PDF, DOC, DOCX or CSV)")
        if len(data) > MAX_FILE_BYTES:
            raise invalid("file size exceeds 5MB")
        return kind[0]

    def upload_expired(self, upload: Upload) -> bool:
        return self.now() - upload.uploaded_at > UPLOAD_LIFETIME

    # ----------------------------------------------------------------------- reads

    def user_detail(self, user_id: str) -> JSON:
        user = self.users.get(user_id)
        if user is None:
            raise invalid("user_id is invalid")
        last = user.last_interaction
        body: JSON = {
            "user_id": user.user_id, "user_id_by_app": user.user_id_by_app,
            "display_name": user.display_name, "user_alias": user.display_name,
            "user_is_follower": user.follower,
            "user_last_interaction_date": "" if last is None else _vietnam_date(last),
            "avatar": "", "avatars": {},
        }  # fmt: skip
        if user.shared_info is not None:
            body["shared_info"] = dict(user.shared_info)
        return body

    def quota(self, user_id: str) -> JSON:
        """`/v3.0/oa/quota/message`: since 2026 free replies are unlimited and `remain` is gone."""
        user = self.users.get(user_id)
        if user is None:
            raise invalid("user_id is invalid")
        last = user.last_interaction
        return {"last_interaction": "" if last is None else str(int(last * 1000)),
                "cs_reply": {}, "promotion": {}}  # fmt: skip

    def oa_info(self) -> JSON:
        return {"oaid": self.oa_id, "name": OA_NAME, "description": "",
                "is_verified": True, "package_name": "Gói Nâng cao",
                "linked_ZCA": True, "num_follower": sum(u.follower for u in self.users.values())}  # fmt: skip

    def messages(self, user_id: str) -> list[ZaloSent]:
        return list(self.sent.get(user_id, []))

    def timeline(self, user_id: str) -> list[JSON]:
        """The chat as the user sees it: their messages, taps, shares, and the OA's messages."""
        return [
            {"from": "bot", **entry.to_json()} if isinstance(entry, ZaloSent) else dict(entry)
            for entry in self._log.get(user_id, [])
        ]

    def mark_read(self, user_id: str) -> None:
        self._cursors[user_id] = len(self.sent.get(user_id, []))

    async def next_message(self, user_id: str, timeout: float = 5.0) -> ZaloSent:
        """The next message the OA sent this user that the test has not read yet."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            cursor, sent = self._cursors.get(user_id, 0), self.sent.get(user_id, [])
            if cursor < len(sent):
                self._cursors[user_id] = cursor + 1
                return sent[cursor]
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = "\n".join(f"  {m.kind} {m.text!r} {m.button_titles()}" for m in sent)
                raise AssertionError(
                    f"no new Zalo message to {user_id} within {timeout}s; sent so far:\n"
                    f"{seen or '  (none)'}"
                )
            await self.wait_signal(remaining)

    def stats(self) -> JSON:
        counters = self.counters
        return {"sent": counters.sent, "billable": counters.billable,
                "refused": {str(code): n for code, n in counters.refused.items()},
                "refreshes": counters.refreshes, "refresh_reuses": counters.refresh_reuses,
                "templates": counters.templates, "uploads": counters.uploads,
                "downloads": counters.downloads,
                "requests": len(self.requests), "events": len(self.events),
                "billable_by_user": {user_id: sum(m.billable for m in sent if m.kind != "template")
                                     for user_id, sent in self.sent.items()}}  # fmt: skip


def _vietnam_date(moment: float) -> str:
    days = int((moment + VIETNAM_UTC_OFFSET) // DAY)
    return time.strftime("%d/%m/%Y", time.gmtime(days * DAY))
