"""Only files the bot wrote itself, inside its files folder, are ever uploaded (issue 19.1).

A messenger's file id (`ChannelFile`) and a file of the bot's own (`LocalFile`) are different
types; a forged file id naming a path on the bot's disk must never be read and sent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.file_bridge import safe_name
from bot.channels.own_files import NotOwnFile, read_own_file
from bot.outgoing import Button, ChannelFile, LocalFile, OutMessage, file_ref_from_json
from storage.db import dumps
from storage.outbox_repo import OutboxRepo, Recipient
from tests.fakebot import FakeBotApi
from tests.harness import RunningBot, db_connect, register
from tests.test_e2e_broadcast import collect_preview

ADMIN, TEACHER, PRINCIPAL = 1901, 1902, 1903
SECRET = b"office-secret-never-to-leave\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file on the bot's disk that is not one of its own."""
    path = tmp_path / "private" / "secret.txt"
    path.parent.mkdir()
    path.write_bytes(SECRET)
    return path


def test_a_file_inside_the_files_folder_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    (folder / "exports").mkdir(parents=True)
    (folder / "exports" / "travel.xlsx").write_bytes(b"PK")
    assert read_own_file([folder], LocalFile(str(folder / "exports" / "travel.xlsx"))) == (
        b"PK",
        "travel.xlsx",
    )


@pytest.mark.parametrize(
    "name",
    ["../private/secret.txt", "exports/../../private/secret.txt", "", ".", "exports"],
)
def test_paths_leaving_the_files_folder_or_not_files_are_refused(
    tmp_path: Path, outside: Path, name: str
) -> None:
    folder = tmp_path / "files"
    (folder / "exports").mkdir(parents=True)
    with pytest.raises(NotOwnFile):
        read_own_file([folder], LocalFile(str(folder / name) if name else ""))


def test_an_absolute_path_elsewhere_is_refused(tmp_path: Path, outside: Path) -> None:
    (tmp_path / "files").mkdir()
    for path in (str(outside), "/etc/hostname", "/etc/passwd"):
        with pytest.raises(NotOwnFile):
            read_own_file([tmp_path / "files"], LocalFile(path))


def test_a_symlink_inside_the_folder_to_a_file_outside_is_refused(
    tmp_path: Path, outside: Path
) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "report.xlsx").symlink_to(outside)
    (folder / "linked").symlink_to(outside.parent, target_is_directory=True)
    for name in ("report.xlsx", "linked/secret.txt"):
        with pytest.raises(NotOwnFile):
            read_own_file([folder], LocalFile(str(folder / name)))


def test_a_files_folder_that_is_itself_a_symlink_still_works(tmp_path: Path) -> None:
    real = tmp_path / "real-files"
    real.mkdir()
    (real / "chart.png").write_bytes(b"\x89PNG")
    os.symlink(real, tmp_path / "files")
    assert read_own_file([tmp_path / "files"], LocalFile(str(tmp_path / "files" / "chart.png")))[
        0
    ] == (b"\x89PNG")


def test_stored_references_keep_their_kind() -> None:
    for ref in (
        ChannelFile("telegram", "BQACAgIAAxk1"),
        ChannelFile("zalo", "https://f.example/1", "48-CV-ĐU.pdf"),
        LocalFile("/srv/khaibao/files/a.xlsx"),
    ):
        message = OutMessage("x", document=ref, photo=ref, file_note="tệp không gửi được")
        again = OutMessage.from_json(json.loads(dumps(message.to_json())))
        assert again.document == ref and again.photo == ref
        assert again.file_note == "tệp không gửi được"


def test_without_its_file_a_message_keeps_its_text_buttons_and_note() -> None:
    read = ((Button("✅ Đã đọc", "bc:1:r"),),)
    doc = ChannelFile("telegram", "BQACAgIAAxk1", "a.pdf")
    message = OutMessage("📄 Văn bản 48", buttons=read, document=doc, file_note="⚠️ thiếu tệp")
    assert message.without_file() == OutMessage("📄 Văn bản 48\n\n⚠️ thiếu tệp", buttons=read)
    assert OutMessage("", document=doc, file_note="⚠️ thiếu tệp").without_file() == OutMessage(
        "⚠️ thiếu tệp"
    )
    assert OutMessage("", document=doc).without_file() is None  # nothing left to say


@given(st.text())
def test_a_copied_files_name_is_only_ever_a_name_inside_its_folder(name: str) -> None:
    made = safe_name(name)
    folder = Path("/srv/khaibao/files/channel-files/0f")
    assert made and "/" not in made and "\\" not in made and not made.startswith(".")
    assert (folder / made).resolve().parent == folder
    assert len(made) <= 70


def test_rows_from_before_typed_references_are_read_safely() -> None:
    assert file_ref_from_json("BQACAgIAAxk1") == ChannelFile(None, "BQACAgIAAxk1")
    assert file_ref_from_json("/etc/hostname") == LocalFile("/etc/hostname")
    assert file_ref_from_json({"kind": "mystery"}) == LocalFile("")
    assert file_ref_from_json(None) is None


@given(st.one_of(st.text(), st.dictionaries(st.text(), st.text()), st.none()))
def test_any_stored_reference_reads_back_without_raising(data: object) -> None:
    ref = file_ref_from_json(data)
    assert ref is None or isinstance(ref, ChannelFile | LocalFile)


async def forged_document(fake: FakeBotApi, user_id: int, file_id: str) -> None:
    """What an attacker posts as an update: a "PDF" whose file id is a path on our disk."""
    user = fake.known_user(user_id)
    assert user is not None
    document = {"file_id": file_id, "file_unique_id": "AgADforged", "file_name": "48-CV.pdf",
                "mime_type": "application/pdf", "file_size": 10}  # fmt: skip
    fake.queue_raw_update({"message": fake.user_message(user, {"document": document})})


async def test_a_forged_file_id_naming_a_path_reaches_nobody(
    fake: FakeBotApi, bot: RunningBot, outside: Path
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    for text in ("/broadcast", "48-CV/ĐU ngày 07/06/2021", "V/v phòng, chống dịch"):
        fake.send_text(admin, text)
        await fake.next_message(admin.id)
    await forged_document(fake, admin.id, str(outside))
    last = await fake.next_message(admin.id)
    fake.press(admin, last, last.callback_data("Xong"))
    question = await fake.next_message(admin.id)
    fake.press(admin, question, question.callback_data("Mọi người"))
    summary = (await collect_preview(fake, admin))[-1]
    fake.press(admin, summary, summary.callback_data("Gửi ngay"))
    await fake.next_message(admin.id)
    await bot.services.sender.drain()

    for user in (teacher, principal, admin):
        for message in fake.messages(user.id):
            assert message.document is None or SECRET not in message.document["data"]
    uploads = [p for m, p in fake.requests if m == "sendDocument"]
    assert uploads and all(p.get("document") == str(outside) for p in uploads)
    with db_connect(bot.settings.database_path) as conn:
        states = conn.execute(
            "SELECT status, error FROM outbox WHERE payload LIKE '%\"document\"%'"
        ).fetchall()
    assert states and all(s == "undeliverable" for s, _ in states), states


async def test_old_outbox_rows_keep_file_ids_and_refuse_paths(
    fake: FakeBotApi, bot: RunningBot, outside: Path
) -> None:
    user = fake.user(1904)
    stored = fake.store_file(b"%PDF-1.4 old", "documents", "application/pdf", "old.pdf")
    async with bot.services.db.transaction() as tx:
        for document in (stored.file_id, str(outside)):
            row = await OutboxRepo(tx).enqueue(
                Recipient("telegram", str(user.id)), OutMessage("cũ"), bot.clock.now()
            )
            await tx.execute(
                "UPDATE outbox SET payload = ? WHERE id = ?",
                (dumps({"text": "cũ", "document": document}), row),
            )
    bot.services.sender.wake()
    await bot.services.sender.drain()
    got = fake.messages(user.id)
    assert [m.document["data"] for m in got if m.document] == [b"%PDF-1.4 old"]
    with db_connect(bot.settings.database_path) as conn:
        statuses = [r[0] for r in conn.execute("SELECT status FROM outbox ORDER BY id")]
    assert statuses[-2:] == ["sent", "undeliverable"]


async def test_exports_are_written_inside_the_files_folder(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    fake.send_text(admin, "/export travel 01/05/2021 31/05/2021")
    await fake.wait_for(lambda: fake.messages(admin.id)[-1].kind == "document")
    written = list(bot.settings.files_folder.rglob("*.xlsx"))
    assert written and all(
        p.is_relative_to(bot.settings.database_path.parent / "files") for p in written
    )
