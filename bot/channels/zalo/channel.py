"""The Zalo channel as the outbox sees it: render, then send each part through
`/v3.0/oa/message/cs`, files uploaded first (their ids reused for 7 days), the window kept.

The window (ZALO.md §1 row 5): within 48 h of the person's last interaction a message is free;
from 48 h to 7 days it still goes and is counted billable; past 7 days (known here, or refused
by Zalo with a window code) the message falls back (`WindowFallback`): to the person's other
channel (the outbox moves the row there on `WindowClosed`), else a ZBS template when one is set,
else it is held until the person writes again (the admins are told).
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePath

from bot.channels.own_files import NotOwnFile, read_own_file
from bot.channels.port import (
    Capabilities,
    RetryLater,
    SendError,
    Undeliverable,
    WindowClosed,
)
from bot.channels.zalo import CHANNEL
from bot.channels.zalo.api import ZaloApi
from bot.channels.zalo.errors import ErrorClass, ZaloApiError, send_error
from bot.channels.zalo.render import (
    DOCUMENT_SUFFIXES,
    MAX_DOCUMENT_BYTES,
    MAX_PHOTO_BYTES,
    capabilities,
    message_json,
    render,
)
from bot.config import ZALO_FORM_IMAGE
from bot.domain.clock import Clock
from bot.outgoing import ChannelFile, LocalFile, OutMessage
from storage.channel_usage_repo import ChannelUsageRepo
from storage.directory_repo import DirectoryRepo
from storage.engine import Database
from storage.outbox_repo import HELD_PREFIX
from storage.zalo_repo import ZaloRepo

log = logging.getLogger(__name__)

CS_PATH = "/v3.0/oa/message/cs"
TEMPLATE_PATH = "/v3.0/oa/message/template"
UPLOAD_KEPT = timedelta(days=7) - timedelta(hours=6)  # used again until a little before expiry
XLSX = ".xlsx"


@dataclass(frozen=True, slots=True)
class Template:
    """An approved ZBS template for people outside the window (ZALO_TEMPLATE_*)."""

    template_id: str
    text_param: str
    name_param: str
    max_chars: int


Unreached = Callable[[str | None, str, int], Awaitable[None]]
"""Told when a message is held: (staff id or None, the Zalo user, how many wait now)."""


class WindowFallback:
    """Where a message goes that Zalo will not take now."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        api: ZaloApi,
        template: Template | None,
        unreached: Unreached | None = None,
        held: set[str] | None = None,
    ) -> None:
        self._held = held if held is not None else set()  # shared with the inbound side
        self._db = db
        self._clock = clock
        self._api = api
        self._template = template
        self._unreached = unreached

    async def handle(self, user_id: str, message: OutMessage, why: str) -> str:
        """The reference of what went instead. Raises WindowClosed when the person has another
        channel (the outbox sends the row there), Undeliverable when it is held."""
        async with self._db.reading() as tx:
            repo = ZaloRepo(tx)
            staff_id = await repo.staff_of(CHANNEL, user_id)
            others = await repo.other_chats(staff_id, CHANNEL) if staff_id else []
        if others:
            raise WindowClosed(f"{why}; their other channel takes it")
        template = self._template
        if template is not None and (sent := await self._send_template(user_id, staff_id, message)):
            return sent
        await self._hold(user_id, staff_id)
        raise Undeliverable(f"{HELD_PREFIX} {why}; sent when they write again")

    async def _send_template(
        self, user_id: str, staff_id: str | None, message: OutMessage
    ) -> str | None:
        template = self._template
        assert template is not None
        text = message.text if len(message.text) <= template.max_chars else (
            message.text[: template.max_chars - 1] + "…"
        )  # fmt: skip
        data = {template.text_param: text}
        if template.name_param:
            data[template.name_param] = await self._name_of(staff_id)
        body = {"user_id": user_id, "template_id": template.template_id, "template_data": data}
        try:
            answer = await self._api.post(TEMPLATE_PATH, body)
        except ZaloApiError as exc:
            if exc.kind is ErrorClass.WINDOW:
                return None
            raise send_error(exc, self._clock.now()) from exc
        async with self._db.transaction() as tx:
            await ChannelUsageRepo(tx).count(CHANNEL, self._clock.now().date(), "templates")
        return f"template:{answer.get('message_id', '')}"

    async def _name_of(self, staff_id: str | None) -> str:
        if staff_id is None:
            return ""
        async with self._db.reading() as tx:
            person = await DirectoryRepo(tx).person(staff_id)
        return person.full_name if person is not None else ""

    async def _hold(self, user_id: str, staff_id: str | None) -> None:
        async with self._db.transaction() as tx:
            repo = ZaloRepo(tx)
            waiting = await repo.held_rows(CHANNEL, user_id) + 1
            await ChannelUsageRepo(tx).count(CHANNEL, self._clock.now().date(), "held")
        self._held.add(user_id)
        if waiting == 1 and self._unreached is not None:
            await self._unreached(staff_id, user_id, waiting)


class ZaloChannel:
    """The `Channel` of bot/channels/port.py for a Zalo Official Account."""

    def __init__(
        self,
        api: ZaloApi,
        db: Database,
        clock: Clock,
        upload_folders: Sequence[Path],
        fallback: WindowFallback,
        requests_per_minute: int,
        on_admin_needed: Callable[[str], Awaitable[None]] | None = None,
        form_image: str = ZALO_FORM_IMAGE,
    ) -> None:
        self._api = api
        self._form_image = form_image
        self._on_admin_needed = on_admin_needed
        self._admin_told: set[int] = set()  # codes the admins were told of (once each)
        self._db = db
        self._clock = clock
        self._folders = tuple(upload_folders)
        self._fallback = fallback
        self._capabilities = capabilities(requests_per_minute)
        self._upload_locks: dict[str, asyncio.Lock] = {}

    @property
    def name(self) -> str:
        return CHANNEL

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    def render(self, message: OutMessage) -> Sequence[OutMessage]:
        return render(message, self._capabilities)

    async def send(self, chat_ref: str, message: OutMessage) -> str | None:
        """Every part of `message` (a rendered part is one), in order; the last one's id. An
        edit Zalo cannot show and that does not matter sends nothing (its target's id)."""
        parts = render(message, self._capabilities)
        if not parts:
            return message.edit_ref or message.delete_ref
        message = message.as_new_message() or message  # what another channel gets instead
        age, following = await self._silence(chat_ref)
        if self._capabilities.proactive.closed(age):
            return await self._fallback.handle(chat_ref, message, "no interaction in 7 days")
        if not following:  # Zalo would refuse it (-213): spare the call
            return await self._fallback.handle(chat_ref, message, "no longer follows the OA")
        ref: str | None = None
        for part in parts:
            try:
                ref = await self._send_part(chat_ref, part)
            except WindowClosed as closed:
                if ref is not None:  # some parts went: the rest is not sent twice elsewhere
                    raise Undeliverable(f"{closed} after a part was sent") from closed
                return await self._fallback.handle(chat_ref, message, str(closed))
            await self._count(age)
        return ref

    async def _silence(self, user_id: str) -> tuple[timedelta | None, bool]:
        """How long the person has been silent (None: not known here), and whether they
        still follow the OA."""
        async with self._db.reading() as tx:
            last, following = await ZaloRepo(tx).window_of(user_id, self._clock.tz)
        return (None if last is None else self._clock.now() - last), following

    async def _count(self, age: timedelta | None) -> None:
        kind = "billable" if self._capabilities.proactive.billable(age) else "free"
        async with self._db.transaction() as tx:
            await ChannelUsageRepo(tx).count(CHANNEL, self._clock.now().date(), kind)

    async def _send_part(self, user_id: str, part: OutMessage) -> str:
        ref = part.document or part.photo
        if isinstance(ref, ChannelFile):
            if ref.channel not in (None, CHANNEL) or part.document is not None:
                raise Undeliverable(f"a file held by {ref.channel or 'another messenger'}")
            return await self._cs(user_id, message_json(part, url=ref.file_id))
        if isinstance(ref, LocalFile):
            return await self._send_own_file(user_id, part, ref)
        return await self._cs(user_id, message_json(part, form_image=self._form_image))

    async def _cs(self, user_id: str, body: dict[str, object]) -> str:
        try:
            data = await self._api.post(
                CS_PATH, {"recipient": {"user_id": user_id}, "message": body}
            )
        except ZaloApiError as exc:
            raise await self._failure(exc) from exc
        return str(data.get("message_id") or "")

    async def _failure(self, exc: ZaloApiError) -> SendError:
        """The outbox's outcome for an error; an error only an admin can fix is told once."""
        if exc.kind is ErrorClass.ADMIN and exc.code not in self._admin_told:
            self._admin_told.add(exc.code)
            log.error("Zalo needs an admin: %s", exc)
            if self._on_admin_needed is not None:
                await self._on_admin_needed(f"{exc.code} {exc.message}")
        return send_error(exc, self._clock.now())

    async def _send_own_file(self, user_id: str, part: OutMessage, ref: LocalFile) -> str:
        files = self._own_files(ref, photo=part.photo is not None)
        sent = ""
        for content, name in files:
            kind = "image" if part.photo is not None else "file"
            upload_id: str | None = None
            for attempt in range(2):
                upload_id = await self._uploaded(kind, content, name, refused=upload_id)
                body = message_json(part, upload_id=upload_id)
                try:
                    data = await self._api.post(
                        CS_PATH, {"recipient": {"user_id": user_id}, "message": body}
                    )
                    sent = str(data.get("message_id") or "")
                    break
                except ZaloApiError as exc:
                    if exc.kind is not ErrorClass.REUPLOAD or attempt == 1:
                        raise await self._failure(exc) from exc
                    log.info("Zalo upload %s expired (%s): uploading again", name, exc.code)
        return sent

    def _own_files(self, ref: LocalFile, *, photo: bool) -> list[tuple[bytes, str]]:
        """The file's bytes and name; an .xlsx as one CSV per sheet (Zalo takes no .xlsx)."""
        try:
            content, name = read_own_file(self._folders, ref)
        except NotOwnFile as refused:
            log.warning("refused to upload a file: %s", refused)
            raise Undeliverable(f"not a file of the bot's own: {refused}") from refused
        suffix = PurePath(name).suffix.lower()
        if photo:
            if len(content) > MAX_PHOTO_BYTES or suffix not in (".png", ".jpg", ".jpeg"):
                raise Undeliverable(f"Zalo takes jpg/png pictures up to 1 MB, not {name}")
            return [(content, name)]
        files = xlsx_as_csv(content, name) if suffix == XLSX else [(content, name)]
        for each, each_name in files:
            each_suffix = PurePath(each_name).suffix.lower()
            if each_suffix not in DOCUMENT_SUFFIXES or len(each) > MAX_DOCUMENT_BYTES:
                raise Undeliverable(f"Zalo takes PDF/DOC/DOCX/CSV up to 5 MB, not {each_name}")
        return files

    async def _uploaded(
        self, kind: str, content: bytes, name: str, refused: str | None = None
    ) -> str:
        """The file's upload id: the one kept while it is fresh (and not `refused` by Zalo as
        expired), else a new upload. One upload at a time per file: the copies of a directive
        sent at once wait for the first, and then use its id."""
        key = f"{kind}:{hashlib.sha256(content).hexdigest()}"
        async with self._upload_locks.setdefault(key, asyncio.Lock()):
            kept = await self._kept_upload(key)
            if kept is not None and kept != refused:
                return kept
            return await self._upload(key, kind, content, name)

    async def _kept_upload(self, key: str) -> str | None:
        async with self._db.reading() as tx:
            found = await ZaloRepo(tx).upload(key, self._clock.tz)
        if found is not None and self._clock.now() - found[1] < UPLOAD_KEPT:
            return found[0]
        return None

    async def _upload(self, key: str, kind: str, content: bytes, name: str) -> str:
        now = self._clock.now()
        mime = _mime(name)
        try:
            data = await self._api.upload(kind, content, name, mime)
        except ZaloApiError as exc:
            raise await self._failure(exc) from exc
        upload_id = str(data.get("attachment_id") or data.get("token") or "")
        if not upload_id:
            raise RetryLater(30.0)
        async with self._db.transaction() as tx:
            await ZaloRepo(tx).save_upload(key, kind, upload_id, now)
        return upload_id


def _mime(name: str) -> str:
    return {
        ".pdf": "application/pdf",
        ".doc": "application/msword",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".csv": "text/csv",
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
    }.get(PurePath(name).suffix.lower(), "application/octet-stream")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def xlsx_as_csv(content: bytes, name: str) -> list[tuple[bytes, str]]:
    """Each sheet of a workbook as a CSV file (UTF-8 with a BOM, so Excel reads Vietnamese);
    a cell that would start a formula is quoted with an apostrophe."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)  # a formula kept as its text
    stem = PurePath(name).stem
    found = []
    for sheet in book.worksheets:
        out = io.StringIO()
        writer = csv.writer(out)
        for row in sheet.iter_rows(values_only=True):
            writer.writerow([_cell(value) for value in row])
        label = stem if len(book.worksheets) == 1 else f"{stem} - {sheet.title}"
        found.append((("\ufeff" + out.getvalue()).encode(), f"{label}.csv"))
    book.close()
    return found


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
