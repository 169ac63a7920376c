"""The sandbox Zalo Official Account's data and rules: ids, limits, error codes, the webhook
signature, and the parsing of the OA's `message/cs` bodies.

Built from the project's ZALO.md (the OA Open API v3 as public sources describe it), not from any
adapter, so that the fake and the adapter check each other. Where the sources are unsure, the
choice made here is marked UNVERIFIED. Imports nothing else of the sandbox.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

APP_ID = "4143206758391127105"  # invented ids, the shape of Zalo's (digits, beyond 2^53)
OA_ID = "2918840122053409112"
APP_SECRET = "sandbox-app-secret-key"  # the `secret_key` header of the token endpoint
OA_SECRET_KEY = "sandbox-oa-secret-key"  # the "OA Secret Key" that signs the webhooks
OA_NAME = "Khai Báo (sandbox OA)"

MAX_TEXT = 2000  # characters of NFC text
MAX_BUTTONS = 5
# UNVERIFIED: ZALO.md gives a button title at most 20 characters by one source, 100 by another;
# the fake refuses past the stricter (-201), as an OA that holds to it would.
MAX_BUTTON_TITLE = 20
MAX_ELEMENT_TITLE = 100  # a request_user_info element's title (no source gives less)
# UNVERIFIED: an SDK's guide gives 1,000 characters for an oa.query payload (no other source
# gives one); counted here as UTF-8 bytes, the stricter reading.
MAX_QUERY_PAYLOAD = 1000
MAX_IMAGE_BYTES = 1024 * 1024
MAX_FILE_BYTES = 5 * 1024 * 1024
HOUR = 3600.0
DAY = 24 * HOUR
FREE_WINDOW = 48 * HOUR  # after the user's last interaction: cs messages are free
CS_WINDOW = 7 * DAY  # up to here cs messages still go (billable); later -230
ACCESS_TOKEN_LIFETIME = 25 * HOUR  # expires_in "90000"
REFRESH_TOKEN_LIFETIME = 90 * DAY  # "3 months"
AUTH_CODE_LIFETIME = 10 * 60.0
UPLOAD_LIFETIME = 7 * DAY
RATE_PER_MINUTE = 4000  # requests per app
NIGHT_START_HOUR, NIGHT_END_HOUR = 22, 6  # no template sends between (Vietnam time, -234)
VIETNAM_UTC_OFFSET = 7 * HOUR

BUTTON_TYPES = frozenset(
    {"oa.query.hide", "oa.query.show", "oa.open.url", "oa.open.phone", "oa.open.sms"}
)
QUERY_BUTTONS = frozenset({"oa.query.hide", "oa.query.show"})
SIGNATURE_HEADER = "X-ZEvent-Signature"
RETRY_HEADER = "num_retry"
SIGNATURE_IDS = ("app_id", "oa_id")  # which id starts the signed string (sources disagree)

# Error codes, as ZALO.md §3 lists them.
RATE_LIMITED = -32
ASSET_EXPIRED = -100
INVALID_PARAM = -201
QUOTA_USED = -211  # UNVERIFIED which code (-211 or -218): the legacy 8 replies are used up
NOT_FOLLOWING = -213
TOKEN_INVALID = -216
BLOCKED = -217
OUTSIDE_WINDOW = -230
UNSUPPORTED_TYPE = -233
NIGHT_BAN = -234
V2_SHUT_DOWN = -240
# The token endpoint's own -14xxx family. UNVERIFIED: only -14002 appears in the sources; the
# others follow its pattern (the adapter should treat any non-zero `error` as a refusal).
OAUTH_INVALID_APP = -14002
OAUTH_INVALID_PARAM = -14001
OAUTH_INVALID_SECRET = -14004
OAUTH_INVALID_CODE = -14012
OAUTH_INVALID_REFRESH = -14014

MESSAGES = {
    RATE_LIMITED: "Your application reached limit call api",
    ASSET_EXPIRED: "Attachment has expired, please upload again",
    INVALID_PARAM: "Parameters are invalid",
    QUOTA_USED: "Out of quota: the OA has used its replies to this user",
    NOT_FOLLOWING: "User has not followed OA",
    TOKEN_INVALID: "Access token is invalid",
    BLOCKED: "User has blocked messages from the OA",
    OUTSIDE_WINDOW: "User has not interacted with the OA in the last 7 days",
    UNSUPPORTED_TYPE: "Message type is not supported",
    NIGHT_BAN: "This message type cannot be sent between 22:00 and 06:00",
    V2_SHUT_DOWN: "MessageV2 API has been shut down, please switch to MessageV3",
}
DIGITS = re.compile(r"[0-9]{1,30}")


class ZaloError(Exception):
    """An error answer: HTTP 200 with `{"error": code, "message": ...}`, as Zalo answers."""

    def __init__(self, code: int, detail: str | None = None) -> None:
        self.code = code
        self.message = detail or MESSAGES.get(code, "Error")
        super().__init__(f"{code} {self.message}")

    def body(self) -> JSON:
        return {"error": self.code, "message": self.message}


class OAuthError(ZaloError):
    """The token endpoint's error shape: `error`, `error_name`, `error_reason`, `ref_doc`."""

    def body(self) -> JSON:
        return {"error": self.code, "error_name": self.message, "error_reason": self.message,
                "ref_doc": "https://developers.zalo.me/docs/official-account"}  # fmt: skip


def invalid(detail: str) -> ZaloError:
    return ZaloError(INVALID_PARAM, detail)


def signature(prefix_id: str, raw_body: bytes, timestamp: str, key: str) -> str:
    """`X-ZEvent-Signature`'s value: `mac=` + sha256 hex of id + raw body + timestamp + key
    (plain SHA-256 over the concatenation, not an HMAC)."""
    digest = hashlib.sha256(prefix_id.encode() + raw_body + timestamp.encode() + key.encode())
    return "mac=" + digest.hexdigest()


def nfc_length(text: str) -> int:
    return len(unicodedata.normalize("NFC", text))


def opaque_id(kind: str, number: int, length: int) -> str:
    """A stable hex id, like Zalo's message ids (`96d3cdf3af150460909`)."""
    return hashlib.sha256(f"{kind}:{number}".encode()).hexdigest()[:length]


# --------------------------------------------------------------------------- the data


@dataclass
class ZaloUser:
    """A person on Zalo, as the OA sees them (their `user_id` is the OA-scoped UID)."""

    user_id: str
    display_name: str
    user_id_by_app: str
    phone: str = ""  # what `user_submit_info` shares (84…)
    follower: bool = False
    blocked: bool = False  # they blocked the OA's messages (-217)
    last_interaction: float | None = None  # the fake's clock, seconds
    shared_info: JSON | None = None  # after user_submit_info
    asked_for_info: bool = False  # a request_user_info reached them (so they can submit)
    replies: int = 0  # cs messages since their last interaction (the legacy reply quota)

    def to_json(self) -> JSON:
        return {"user_id": self.user_id, "display_name": self.display_name,
                "user_id_by_app": self.user_id_by_app, "phone": self.phone,
                "follower": self.follower, "blocked": self.blocked,
                "last_interaction": self.last_interaction,
                "shared_info": self.shared_info}  # fmt: skip


@dataclass
class Upload:
    """An uploaded image, gif or file; its id (`attachment_id` or `token`) expires after 7 days."""

    upload_id: str
    kind: str  # "image" | "gif" | "file"
    data: bytes
    name: str
    mime_type: str
    uploaded_at: float

    def to_json(self) -> JSON:
        return {"upload_id": self.upload_id, "kind": self.kind, "name": self.name,
                "mime_type": self.mime_type, "size": len(self.data),
                "uploaded_at": self.uploaded_at}  # fmt: skip


@dataclass
class CsMessage:
    """A parsed `message/cs` body."""

    user_id: str
    kind: str  # "text" | "buttons" | "request_user_info" | "image" | "gif" | "file"
    text: str | None = None
    buttons: list[JSON] = field(default_factory=list)
    element: JSON | None = None  # the request_user_info or media element
    upload_id: str | None = None  # attachment_id (image/gif) or token (file)
    image_url: str | None = None
    quote_message_id: str | None = None


@dataclass
class ZaloSent:
    """A message the OA sent to a user (cs or template)."""

    message_id: str
    user_id: str
    kind: str  # CsMessage.kind, or "template"
    text: str | None
    sent_at: float
    billable: bool
    buttons: list[JSON] = field(default_factory=list)
    element: JSON | None = None
    upload: Upload | None = None
    image_url: str | None = None
    quote_message_id: str | None = None
    template: JSON | None = None  # template_id and template_data

    def button_titles(self) -> list[str]:
        return [str(button.get("title", "")) for button in self.buttons]

    def payload_of(self, title_contains: str) -> str:
        """The payload Zalo sends as text when the button whose title contains this is tapped."""
        for button in self.buttons:
            if title_contains in str(button.get("title", "")) and button["type"] in QUERY_BUTTONS:
                return str(button["payload"])
        raise AssertionError(f"no oa.query button containing {title_contains!r} in {self}")

    def to_json(self) -> JSON:
        return {"message_id": self.message_id, "user_id": self.user_id, "kind": self.kind,
                "text": self.text, "sent_at": self.sent_at, "billable": self.billable,
                "buttons": self.buttons, "element": self.element,
                "upload": None if self.upload is None else self.upload.to_json(),
                "image_url": self.image_url, "quote_message_id": self.quote_message_id,
                "template": self.template}  # fmt: skip


# --------------------------------------------------------------------------- parsing cs bodies


def _string(value: object, name: str, *, limit: int | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{name} is invalid!")
    if limit is not None and nfc_length(value) > limit:
        raise invalid(f"{name} is too long (at most {limit} characters)")
    return value


def user_id_of(value: object) -> str:
    """A user id as Zalo writes ids: a string of digits (a number is refused: ids pass 2^53)."""
    if not isinstance(value, str) or not DIGITS.fullmatch(value):
        raise invalid("user_id is invalid")
    return value


def _text(message: JSON, *, required: bool) -> str | None:
    text = message.get("text")
    if text is None and not required:
        return None
    if not isinstance(text, str) or not text.strip() or nfc_length(text) > MAX_TEXT:
        raise invalid("text is invalid!")
    return text


def _url(value: object, name: str) -> str:
    url = _string(value, name)
    if not url.startswith(("https://", "http://")):
        raise invalid(f"{name} is invalid!")
    return url


def check_button(button: object) -> JSON:
    if not isinstance(button, dict):
        raise invalid("button is invalid")
    _string(button.get("title"), "button title", limit=MAX_BUTTON_TITLE)
    kind, payload = button.get("type"), button.get("payload")
    if kind not in BUTTON_TYPES:
        raise invalid("button type is invalid")
    if kind in QUERY_BUTTONS:
        if len(_string(payload, "button payload").encode()) > MAX_QUERY_PAYLOAD:
            raise invalid(f"button payload is too long (at most {MAX_QUERY_PAYLOAD} bytes)")
    elif not isinstance(payload, dict):
        raise invalid("button payload is invalid")
    elif kind == "oa.open.url":
        _url(payload.get("url"), "button payload url")
    else:
        phone = payload.get("phone_code")
        if not isinstance(phone, str) or not DIGITS.fullmatch(phone):
            raise invalid("button payload phone_code is invalid")
        if kind == "oa.open.sms":
            _string(payload.get("content"), "button payload content")
    return dict(button)


def _buttons(payload: JSON) -> list[JSON]:
    buttons = payload.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise invalid("buttons is invalid")
    if len(buttons) > MAX_BUTTONS:
        raise invalid(f"buttons exceed the limit of {MAX_BUTTONS}")
    return [check_button(button) for button in buttons]


def _one_element(payload: JSON) -> JSON:
    elements = payload.get("elements")
    if not isinstance(elements, list) or len(elements) != 1 or not isinstance(elements[0], dict):
        raise invalid("elements must hold exactly one element")
    return dict(elements[0])


def _request_user_info(cs: CsMessage, payload: JSON) -> CsMessage:
    element = _one_element(payload)
    _string(element.get("title"), "element title", limit=MAX_ELEMENT_TITLE)
    _string(element.get("subtitle"), "element subtitle", limit=MAX_TEXT)
    _url(element.get("image_url"), "element image_url")
    cs.kind, cs.element = "request_user_info", element
    return cs


def _media(cs: CsMessage, payload: JSON) -> CsMessage:
    element = _one_element(payload)
    media_type = element.get("media_type")
    if media_type not in ("image", "gif"):
        raise invalid("media_type is invalid")
    attachment_id, url = element.get("attachment_id"), element.get("url")
    if (attachment_id is None) == (url is None):
        raise invalid("give either attachment_id or url")
    if media_type == "gif" and not all(
        isinstance(element.get(side), int) and element[side] > 0 for side in ("width", "height")
    ):
        raise invalid("a gif needs width and height")
    if attachment_id is not None:
        cs.upload_id = _string(attachment_id, "attachment_id")
    else:
        cs.image_url = _url(url, "url")
    cs.kind, cs.element = str(media_type), element
    return cs


def _template(cs: CsMessage, message: JSON, payload: JSON) -> CsMessage:
    template_type = payload.get("template_type")
    if template_type is None:  # a plain button list has no template_type
        cs.text = _text(message, required=True)
        cs.kind, cs.buttons = "buttons", _buttons(payload)
        return cs
    if template_type == "request_user_info":
        return _request_user_info(cs, payload)
    if template_type == "media":
        return _media(cs, payload)
    raise ZaloError(UNSUPPORTED_TYPE)


def _attachment(cs: CsMessage, message: JSON, attachment: object) -> CsMessage:
    if not isinstance(attachment, dict) or not isinstance(attachment.get("payload"), dict):
        raise invalid("attachment is invalid")
    payload: JSON = attachment["payload"]
    kind = attachment.get("type")
    if not isinstance(kind, str) or not kind:
        raise invalid("attachment type is invalid")
    if kind == "template":
        return _template(cs, message, payload)
    if kind == "file":
        cs.kind, cs.upload_id = "file", _string(payload.get("token"), "file token")
        return cs
    raise ZaloError(UNSUPPORTED_TYPE)


def parse_cs(body: object) -> CsMessage:
    """A `message/cs` body as ZALO.md §3.2 gives it; anything else is a -201 (or -233 for a kind
    of message the cs API does not carry)."""
    if not isinstance(body, dict):
        raise invalid("body must be a JSON object")
    recipient, message = body.get("recipient"), body.get("message")
    if not isinstance(recipient, dict):
        raise invalid("recipient is invalid")
    if not isinstance(message, dict):
        raise invalid("message is invalid")
    cs = CsMessage(user_id=user_id_of(recipient.get("user_id")), kind="text")
    quote = message.get("quote_message_id")
    if quote is not None:
        cs.quote_message_id = _string(quote, "quote_message_id")
    if "attachment" not in message:
        cs.text = _text(message, required=True)
        return cs
    cs.text = _text(message, required=False)
    return _attachment(cs, message, message["attachment"])
