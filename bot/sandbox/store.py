"""The sandbox Telegram's state, shared by the Bot API methods, the test API and the web page.

One `ChatStore` holds what Telegram knows: users and their private chats, the updates waiting to be
fetched, the messages the bot sent (edits kept), the files, the taps and their answers. Whoever
changes it calls `notify()`, which wakes long polls and the web page's long poll.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from types import EllipsisType
from typing import Any

from bot.sandbox.model import (
    BLOCKED,
    BOT_ID,
    CHAT_NOT_FOUND,
    IN_FLIGHT_GRACE,
    JSON,
    PAID_BROADCAST_CAP,
    SEND_METHODS,
    TINY_PNG,
    ApiError,
    FakeUser,
    SentMessage,
    StoredFile,
    command_entities,
    inline_markup,
    photo_size,
    too_many_requests,
)

TAP_TTL = 150.0  # seconds Telegram keeps a button tap that no bot has fetched
FILE_LINK_TTL = 3600.0  # seconds a download link from getFile works ("at least 1 hour")


@dataclass
class WebhookSetting:
    """What setWebhook set; an empty url means getUpdates is in use."""

    url: str = ""
    secret_token: str = ""
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


def short(params: JSON, limit: int = 160) -> str:
    text = repr(params)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ChatStore:
    """Telegram's side of every private chat with the bot, and the updates for the bot."""

    def __init__(
        self,
        *,
        rate_cap: float | None = None,
        bot_username: str = "khaibao_test_bot",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock  # Telegram's time, for message dates (the sandbox follows its dial)
        self.monotonic: Callable[[], float] = time.monotonic  # for the 150 s life of a tap
        self.rate_cap = rate_cap
        self.bot_username = bot_username
        self.bot_id = BOT_ID
        self.requests: list[tuple[str, JSON]] = []
        self.callback_answers: list[JSON] = []
        self.my_commands: dict[str, list[JSON]] = {}  # by scope and language: see chat_commands
        self.sent_count = 0
        self.rate_limited_count = 0
        self.calls_inside_429_wait = 0  # sends that came while a retry_after told the bot to wait
        self.calls_in_flight_at_429 = 0  # sends that came just after a 429 (already on their way)
        self._flood_answered_at = 0.0
        self._flood_until = 0.0
        self.version = 0  # grows at every change of state (new update, message, edit, answer)
        self._init_state()

    def chat_commands(self, chat_id: int, language: str = "") -> list[JSON]:
        """The command menu a chat shows: its own (setMyCommands, scope chat), else the default."""
        own = self.my_commands.get(f"chat:{chat_id}:{language}")
        return own if own is not None else self.my_commands.get(language, [])

    def _init_state(self) -> None:
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, list[SentMessage]] = {}
        self._message_seq: dict[int, int] = {}
        self.user_message_ids: dict[int, set[int]] = {}
        self._cursors: dict[int, int] = {}
        self._read_ahead: dict[int, set[int]] = {}  # read by `next_message_where` past the cursor
        self.updates: dict[int, JSON] = {}
        self._taps: dict[str, JSON] = {}  # query id → the tap in the chat log (for its answer)
        self.pending: list[int] = []  # not confirmed yet: handed out again until confirmed
        self.confirmed_below = 0  # the highest offset confirmed so far
        self._tap_times: dict[int, float] = {}  # when each pending tap was made (monotonic)
        self.expired_taps = 0
        self._last_update_id = 0
        self.poll_generation = 0
        self._query_seq = 0
        self.queries: dict[str, float] = {}  # each press's query id: when it was pressed
        self._press_queries: dict[int, str] = {}
        self.answers: dict[str, JSON] = {}
        self.files: dict[str, StoredFile] = {}
        self.file_paths: dict[str, StoredFile] = {}
        # file_path → when getFile handed out its download link (monotonic): a link works for
        # FILE_LINK_TTL seconds, then getFile must be asked again (as the Bot API's)
        self.file_links: dict[str, float] = {}
        self.downloads = 0
        self.blocked: set[int] = set()
        self._send_times: deque[float] = deque()
        self.webhook = WebhookSetting()
        # A load balancer in front of several bot instances: the webhook's posts go to these
        # URLs in turn instead of the webhook's own (empty: straight to the webhook's URL).
        self.balanced_urls: list[str] = []
        self.send_moments: list[float] = []  # when each message was delivered (monotonic)
        self._paid_send_times: deque[float] = deque()
        self._log: dict[int, list[SentMessage | JSON]] = {}  # each chat, in the order it happened
        self._changed = asyncio.Event()
        self.stopping = asyncio.Event()

    # ----------------------------------------------------------------------- changes

    def now(self) -> int:
        return int(self.clock())

    def notify(self, *, changed: bool = True) -> None:
        """Wake everyone waiting for a change; `changed=False` wakes without a new version."""
        if changed:
            self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_signal(self, timeout: float) -> None:
        """Until the next `notify()` or `timeout`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    async def wait_change(self, since: int, timeout: float) -> int:
        """Until `version` moves past `since`, the server stops or `timeout` runs out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.version == since and not self.stopping.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self.wait_signal(remaining)
        return self.version

    # ----------------------------------------------------------------------- users and updates

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        language_code: str | None = "vi",
        username: str | None = None,
    ) -> FakeUser:
        user = FakeUser(user_id, first_name, last_name, language_code, username)
        self.users[user_id] = user
        return user

    def send_text(self, user: FakeUser, text: str) -> int:
        content: JSON = {"text": text}
        entities = command_entities(text)
        if entities:
            content["entities"] = entities
        return self._queue_update({"message": self.user_message(user, content)})

    def send_contact(
        self,
        user: FakeUser,
        phone_number: str,
        *,
        contact_user_id: int | EllipsisType | None = ...,
        first_name: str = "Contact",
    ) -> int:
        contact: JSON = {"phone_number": phone_number, "first_name": first_name}
        owner = user.id if contact_user_id is ... else contact_user_id
        if owner is not None:
            contact["user_id"] = owner
        return self._queue_update({"message": self.user_message(user, {"contact": contact})})

    def send_photo(
        self,
        user: FakeUser,
        data: bytes = TINY_PNG,
        caption: str | None = None,
        mime_type: str = "image/jpeg",
    ) -> int:
        stored = self.store_file(data, "photos", mime_type, None)
        content: JSON = {"photo": [photo_size(stored.attachment())]}
        if caption is not None:
            content["caption"] = caption
        return self._queue_update({"message": self.user_message(user, content)})

    def send_document(
        self,
        user: FakeUser,
        data: bytes,
        file_name: str,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
    ) -> int:
        """The person sends a file, as Telegram hands it over: the document's id and size."""
        stored = self.store_file(data, "documents", mime_type, file_name)
        document = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                    "file_name": file_name, "mime_type": mime_type, "file_size": len(data)}  # fmt: skip
        content: JSON = {"document": document}
        if caption is not None:
            content["caption"] = caption
        return self._queue_update({"message": self.user_message(user, content)})

    def send_forwarded(self, user: FakeUser, text: str, sender_name: str) -> int:
        """A text the user forwards from elsewhere; its sender hides their account, as most do."""
        origin = {"type": "hidden_user", "sender_user_name": sender_name, "date": self.now()}
        content: JSON = {"text": text, "forward_origin": origin}
        return self._queue_update({"message": self.user_message(user, content)})

    def press(self, user: FakeUser, message: SentMessage, data: str) -> int:
        self._query_seq += 1
        query_id = str(4_000_000_000_000_000_000 + self._query_seq)
        self.queries[query_id] = self.clock()
        query = {"id": query_id, "from": user.to_api(), "message": self.message_json(message),
                 "chat_instance": str(-7_000_000_000 - message.chat_id), "data": data}  # fmt: skip
        labels = [
            b.get("text")
            for row in message.buttons()
            for b in row
            if b.get("callback_data") == data
        ]
        tap = {"from": "user", "press": data, "button": labels[0] if labels else data,
               "message_id": message.message_id, "date": self.now(), "query_id": query_id}  # fmt: skip
        self._log.setdefault(message.chat_id, []).append(tap)
        self._taps[query_id] = tap
        update_id = self._queue_update({"callback_query": query})
        self._press_queries[update_id] = query_id
        return update_id

    def queue_raw_update(self, update: dict[str, Any]) -> int:
        update = dict(update)
        if "update_id" not in update:
            self._last_update_id += 1
            update["update_id"] = self._last_update_id
        if int(update["update_id"]) < self.confirmed_below:
            raise AssertionError(
                f"update {update['update_id']} is below the confirmed offset "
                f"{self.confirmed_below}: Telegram never sends a confirmed update again"
            )
        self._last_update_id = max(self._last_update_id, int(update["update_id"]))
        self._learn_users(update)
        return self._store_update(update)

    def _learn_users(self, update: JSON) -> None:
        """Senders of raw updates become known users, so the bot can answer them."""
        for body in update.values():
            sender = body.get("from") if isinstance(body, dict) else None
            if (
                isinstance(sender, dict)
                and not sender.get("is_bot")
                and sender["id"] not in self.users
            ):
                self.user(sender["id"], sender.get("first_name", "Test"),
                          last_name=sender.get("last_name"), username=sender.get("username"),
                          language_code=sender.get("language_code"))  # fmt: skip

    def _queue_update(self, body: JSON) -> int:
        self._last_update_id += 1
        return self._store_update({"update_id": self._last_update_id, **body})

    def _store_update(self, update: JSON) -> int:
        update_id = int(update["update_id"])
        self.updates[update_id] = update
        if "callback_query" in update:
            self._tap_times[update_id] = self.monotonic()
        if update_id not in self.pending:
            bisect.insort(self.pending, update_id)
        self.notify()
        return update_id

    # ----------------------------------------------------------------------- confirming

    def confirm_below(self, offset: int) -> None:
        """getUpdates' offset: every update below it is confirmed, so gone for good."""
        gone = [update_id for update_id in self.pending if update_id < offset]
        self.pending = self.pending[len(gone) :]
        self._forget(gone)
        self.confirmed_below = max(self.confirmed_below, offset)

    def keep_last(self, count: int) -> None:
        """A negative offset: all but the last `count` pending updates are confirmed."""
        gone = self.pending[: max(0, len(self.pending) - count)]
        if gone:
            self.confirm_below(gone[-1] + 1)

    def confirm(self, update_id: int) -> None:
        """One update confirmed (a webhook answered 200 for it)."""
        if update_id in self.pending:
            self.pending.remove(update_id)
            self._forget([update_id])
            self.notify(changed=False)

    def drop_all_pending(self) -> None:
        self._forget(self.pending)
        self.pending = []

    def drop_expired_taps(self) -> int:
        """Taps not delivered within TAP_TTL seconds are dropped, as Telegram does."""
        cutoff = self.monotonic() - TAP_TTL
        expired = [i for i in self.pending if self._tap_times.get(i, cutoff + 1) <= cutoff]
        for update_id in expired:
            self.pending.remove(update_id)
        self._forget(expired)
        self.expired_taps += len(expired)
        return len(expired)

    def _forget(self, update_ids: list[int]) -> None:
        for update_id in update_ids:
            self.updates.pop(update_id, None)
            self._tap_times.pop(update_id, None)

    def user_message(self, user: FakeUser, content: JSON) -> JSON:
        self.users.setdefault(user.id, user)
        message_id = self._next_message_id(user.id)
        self.user_message_ids.setdefault(user.id, set()).add(message_id)
        self._log.setdefault(user.id, []).append(
            {"from": "user", "message_id": message_id, "date": self.now(), **content}
        )
        return {"message_id": message_id, "from": user.to_api(), "chat": user.chat(),
                "date": self.now(), **content}  # fmt: skip

    def _next_message_id(self, chat_id: int) -> int:
        self._message_seq[chat_id] = self._message_seq.get(chat_id, 0) + 1
        return self._message_seq[chat_id]

    # ----------------------------------------------------------------------- inspection

    def messages(self, chat_id: int) -> list[SentMessage]:
        return list(self.chats.get(chat_id, []))

    def timeline(self, chat_id: int) -> list[JSON]:
        """The whole private chat as its user sees it: their messages and taps, the bot's messages
        (as they are now, after edits), in the order they happened."""
        return [
            {"from": "bot", **entry.to_json()} if isinstance(entry, SentMessage) else dict(entry)
            for entry in self._log.get(chat_id, [])
        ]

    def file(self, file_id: str) -> StoredFile | None:
        return self.files.get(file_id)

    def known_user(self, user_id: int) -> FakeUser | None:
        return self.users.get(user_id)

    def mark_read(self, chat_id: int) -> None:
        """Everything sent to `chat_id` so far counts as read by `next_message`."""
        self._cursors[chat_id] = len(self.chats.get(chat_id, []))
        self._read_ahead.pop(chat_id, None)

    async def next_message(self, chat_id: int, timeout: float = 5.0) -> SentMessage:
        return await self.next_message_where(chat_id, lambda _message: True, timeout)

    async def next_message_where(
        self, chat_id: int, matches: Callable[[SentMessage], bool], timeout: float = 5.0
    ) -> SentMessage:
        """The first unread message to `chat_id` that `matches`, waiting for it; unread messages
        before it stay unread (for `next_message`), so two messages that may come in either order
        can each be awaited by what they say."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self._take_unread(chat_id, matches)
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(self._timeout_dump(chat_id, timeout))
            await self.wait_signal(remaining)

    def _take_unread(
        self, chat_id: int, matches: Callable[[SentMessage], bool]
    ) -> SentMessage | None:
        sent = self.chats.get(chat_id, [])
        read_ahead = self._read_ahead.setdefault(chat_id, set())
        for index in range(self._cursors.get(chat_id, 0), len(sent)):
            if index not in read_ahead and matches(sent[index]):
                read_ahead.add(index)
                cursor = self._cursors.get(chat_id, 0)
                while cursor in read_ahead:  # the cursor passes what was read ahead
                    read_ahead.discard(cursor)
                    cursor += 1
                self._cursors[chat_id] = cursor
                return sent[index]
        return None

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() >= deadline:
                raise AssertionError(f"condition not met within {timeout}s: {predicate!r}")
            await asyncio.sleep(0.01)

    def answer_for(self, update_id: int) -> dict[str, Any] | None:
        query_id = self._press_queries.get(update_id)
        return None if query_id is None else self.answers.get(query_id)

    @property
    def pending_updates(self) -> int:
        return len(self.pending)

    def stats(self) -> JSON:
        by_chat = {str(chat): len(sent) for chat, sent in self.chats.items()}
        return {"sent_count": self.sent_count, "rate_limited_count": self.rate_limited_count,
                "messages_by_chat": by_chat, "pending_updates": len(self.pending)}  # fmt: skip

    def _timeout_dump(self, chat_id: int, timeout: float) -> str:
        sent = self.chats.get(chat_id, [])
        unread = len(sent) - self._cursors.get(chat_id, 0) - len(self._read_ahead.get(chat_id, ()))
        lines = [f"no new message (of the kind awaited) to chat {chat_id} within {timeout}s; "
                 f"{len(sent)} sent so far, {unread} of them unread:"]  # fmt: skip
        lines += [f"  {message.describe()}" for message in sent] or ["  (none)"]
        calls = [f"  {name} {short(params)}" for name, params in self.requests
                 if params.get("chat_id") == chat_id][-10:]  # fmt: skip
        if calls:
            lines += ["last API calls for this chat:", *calls]
        return "\n".join(lines)

    def block(self, chat_id: int) -> None:
        self.blocked.add(chat_id)

    # ----------------------------------------------------------------------- for the methods

    def bot_user(self) -> JSON:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Khai Báo (test)",
                "username": self.bot_username}  # fmt: skip

    def _chat_json(self, chat_id: int) -> JSON:
        user = self.users.get(chat_id)
        return user.chat() if user else {"id": chat_id, "type": "private", "first_name": "?"}

    def message_json(self, message: SentMessage) -> JSON:
        body: JSON = {"message_id": message.message_id, "from": self.bot_user(),
                      "chat": self._chat_json(message.chat_id), "date": message.date}  # fmt: skip
        if message.edit_date is not None:
            body["edit_date"] = message.edit_date
        body.update(message.content_json())
        markup = inline_markup(message.reply_markup)  # Telegram never echoes reply keyboards
        if markup is not None:
            body["reply_markup"] = markup
        return body

    def target_chat(self, params: JSON) -> int:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        if chat_id in self.blocked:
            raise ApiError(403, BLOCKED)
        if not isinstance(chat_id, int) or chat_id not in self.users:
            raise ApiError(400, CHAT_NOT_FOUND)
        return chat_id

    def note_too_many_requests(self, error: ApiError) -> None:
        """A 429 answered: until its retry_after has passed, the bot should send nothing."""
        self.rate_limited_count += 1
        retry_after = float((error.parameters or {}).get("retry_after") or 0)
        moment = time.monotonic()
        self._flood_answered_at = moment
        self._flood_until = max(self._flood_until, moment + retry_after)

    def note_call(self, method: str) -> None:
        """Count a send that comes inside a 429 wait. One that comes within IN_FLIGHT_GRACE of
        the 429 was already on its way when it was answered (counted apart)."""
        if method not in SEND_METHODS:
            return
        moment = time.monotonic()
        if moment >= self._flood_until:
            return
        if moment - self._flood_answered_at < IN_FLIGHT_GRACE:
            self.calls_in_flight_at_429 += 1
        else:
            self.calls_inside_429_wait += 1

    def _admit_send(self, paid: bool) -> None:
        """`rate_cap` sends per rolling second; a paid broadcast's up to PAID_BROADCAST_CAP more."""
        if self.rate_cap is None:
            return
        times, cap = (
            (self._paid_send_times, PAID_BROADCAST_CAP)
            if paid
            else (self._send_times, self.rate_cap)
        )
        moment = time.monotonic()
        while times and moment - times[0] >= 1.0:
            times.popleft()
        if len(times) >= cap:
            raise too_many_requests(1)
        times.append(moment)

    def balance_webhook(self, urls: list[str]) -> None:
        """Post webhook updates to these URLs in turn, as a load balancer would."""
        self.balanced_urls = list(urls)
        self.notify(changed=False)

    def most_sends_in_a_second(self) -> int:
        """The most messages delivered within any rolling second so far."""
        most, first = 0, 0
        moments = self.send_moments
        for last, moment in enumerate(moments):
            while moment - moments[first] >= 1.0:
                first += 1
            most = max(most, last - first + 1)
        return most

    def deliver(self, chat_id: int, *, paid: bool = False, **content: Any) -> JSON:
        """A message to the chat; `paid`: sent with allow_paid_broadcast (its own rate cap)."""
        self._admit_send(paid)
        if not paid:
            self.send_moments.append(time.monotonic())
        message = SentMessage(message_id=self._next_message_id(chat_id), chat_id=chat_id,
                              date=self.now(), **content)  # fmt: skip
        self.chats.setdefault(chat_id, []).append(message)
        self._log.setdefault(chat_id, []).append(message)
        self.sent_count += 1
        self.notify()
        return self.message_json(message)

    def store_file(
        self, data: bytes, folder: str, mime_type: str | None, name: str | None
    ) -> StoredFile:
        number = len(self.files) + 1
        prefix = "BQACAgIAAxk" if folder == "documents" else "AgACAgIAAxk"
        suffix = PurePosixPath(name).suffix if name else ".jpg"
        stored = StoredFile(f"{prefix}{number:08d}", f"AQAD{number:08d}",
                            f"{folder}/file_{number}{suffix}", data, mime_type, name)  # fmt: skip
        self.files[stored.file_id] = stored
        self.file_paths[stored.file_path] = stored
        return stored

    def hand_out_link(self, stored: StoredFile) -> None:
        """getFile answered with this file's path: it can be downloaded for an hour."""
        self.file_links[stored.file_path] = self.monotonic()

    def downloadable(self, file_path: str) -> StoredFile | None:
        """The file behind a download path, if getFile handed it out less than an hour ago."""
        handed_out = self.file_links.get(file_path)
        if handed_out is None or self.monotonic() - handed_out > FILE_LINK_TTL:
            return None
        self.downloads += 1
        return self.file_paths.get(file_path)

    def editable(self, params: JSON) -> SentMessage:
        if "inline_message_id" not in params:
            chat_id = self.target_chat(params)
            for message in self.chats.get(chat_id, []):
                if message.message_id == params.get("message_id") and not message.deleted:
                    return message
        raise ApiError(400, "Bad Request: message to edit not found")

    def record_answer(self, query_id: str, answer: JSON) -> None:
        """The bot answered this tap (answerCallbackQuery)."""
        self.callback_answers.append(answer)
        self.answers[query_id] = answer
        tap = self._taps.get(query_id)
        if tap is not None and answer.get("text"):
            tap["answer"] = {"text": answer["text"], "show_alert": bool(answer.get("show_alert"))}
        self.notify()

    def apply_edit(self, message: SentMessage, method: str, markup: JSON | None) -> None:
        message.edits.append({"method": method, "text": message.text, "caption": message.caption,
                              "entities": message.entities, "reply_markup": message.reply_markup,
                              "edit_date": message.edit_date})  # fmt: skip
        if markup is not None or inline_markup(message.reply_markup) is not None:
            message.reply_markup = markup  # an edit without markup removes the inline keyboard
        message.edit_date = self.now()
        self.notify()
