"""Telegram handlers for commands, typed text and buttons of registered people (travel, approvals)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.channels.port import Command, Press, Text
from handlers.common import answer_press, incoming, reply, services


async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    words = update.message.text[:4096].split()
    name = words[0].lstrip("/").split("@")[0].lower()
    intent = Command(name, tuple(words[1:]))
    _, answers = await services(context).dispatcher.handle(incoming(update), intent)
    await reply(context, update, answers)


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    typed = update.message.text or update.message.caption or ""
    _, answers = await services(context).dispatcher.handle(incoming(update), Text(typed))
    await reply(context, update, answers)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    intent = Press(query.data or "")
    answer, messages = await services(context).dispatcher.handle(incoming(update), intent)
    await answer_press(context, update, answer, messages)
