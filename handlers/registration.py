"""Telegram handlers for registration, /me, /help and /language: thin wrappers on services."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.channels.port import PhoneShared
from handlers.common import acknowledge, incoming, reply, services


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    code = context.args[0] if context.args else None
    await reply(context, update, await services(context).registration.start(incoming(update), code))


async def contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.contact is not None
    shared = update.message.contact
    who = incoming(update)
    # Telegram names the contact's owner: the number is the sender's own only when it is theirs
    own = shared.user_id is not None and str(shared.user_id) == who.user_ref
    intent = PhoneShared(shared.phone_number, own=own)
    _, answers = await services(context).dispatcher.handle(who, intent)
    await reply(context, update, answers)


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await acknowledge(query)
    answers = await services(context).registration.confirm(incoming(update), query.data or "")
    await reply(context, update, answers)


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply(
        context, update, await services(context).registration.language_menu(incoming(update))
    )


async def set_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await acknowledge(query)
    chosen = await services(context).registration.set_language(incoming(update), query.data or "")
    await reply(context, update, chosen)
