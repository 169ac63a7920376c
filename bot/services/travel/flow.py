"""The /travel conversation: destination, address, dates, purpose, published cases, summary.

The draft lives in the conversations table and every answer is committed with the step, so a
crash loses nothing. The next question is always the first field still missing, so editing a
field is just removing it from the draft.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.domain.datetime_parse import ParseError, ParseFailure, parse_when
from bot.domain.provinces import all_provinces, same_province, search_provinces
from bot.domain.travel_policy import (
    PolicyMode,
    PurposeError,
    TripError,
    validate_purpose,
    validate_trip,
)
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.health.alerts import destination_warning, isolation_line, isolation_of
from bot.services.kernel.pickers import (
    matches_keyboard,
    month_calendar,
    province_picker,
    time_picker,
)
from bot.services.kernel.step import Step
from bot.services.travel.buttons import (
    CALENDAR,
    FIELDS,
    PROVINCES,
    CalendarDay,
    CalendarMonth,
    CaseAreaAnswer,
    EditField,
    QuickTime,
    TravelButton,
    TravelPage,
    TravelProvince,
    TravelSignal,
)
from bot.services.travel.policy_state import mode_for_trip
from storage.repos import Conversation

FLOW = "travel"
MAX_ADDRESS = 300
MAX_PURPOSE = 1000

Draft = dict[str, Any]


class TravelFlow:
    """Step functions; the caller opens the Step (transaction) and hands it in."""

    def __init__(self, submit: Callable[[Step, Draft], Awaitable[list[OutMessage]]]) -> None:
        self._submit = submit

    async def begin(self, step: Step, mode: PolicyMode) -> list[OutMessage]:
        draft: Draft = {"mode": mode.value}
        intro = (
            [
                OutMessage(
                    step.t._(
                        "Travel out of {area} is suspended until further notice. Only special cases may leave, with approval: you will be asked for the special reason.",
                        area=step.t.home_area(),
                    )
                )
            ]
            if mode is PolicyMode.BAN
            else []
        )
        return intro + await self._isolation_warning(step) + await self._ask_next(step, draft)

    async def _isolation_warning(self, step: Step) -> list[OutMessage]:
        """Someone told to self-isolate may still ask, but is reminded, and the approver sees it."""
        person = await step.me()
        listing = await isolation_of(step, person.staff_id) if person else None
        if listing is None:
            return []
        return [
            OutMessage(
                isolation_line(step.t, listing)
                + "\n"
                + step.t._(
                    "Please do not travel while isolating unless the health facility agrees. If you still ask, your approver will see this."
                )
            )
        ]

    async def on_text(self, step: Step, conversation: Conversation, text: str) -> list[OutMessage]:
        draft = dict(conversation.draft)
        field = conversation.step
        handlers = {
            "dest": self._typed_destination,
            "address": self._typed_address,
            "dep": self._typed_when,
            "ret": self._typed_when,
            "dep_time": self._typed_time,
            "ret_time": self._typed_time,
            "purpose": self._typed_purpose,
        }
        handler = handlers.get(field)
        if handler is None:
            return [OutMessage(step.t._("Please use the buttons above."))] + await self._ask(
                step, draft, field
            )
        return await handler(step, draft, field, text.strip())

    async def on_button(
        self, step: Step, conversation: Conversation, button: TravelButton
    ) -> list[OutMessage]:
        draft = dict(conversation.draft)
        at = conversation.step
        match button:
            case TravelSignal("noop"):
                return []
            case TravelPage(page) if at == "dest":
                return [self._destination_question(step, page)]
            case TravelProvince(index) if at == "dest":
                return await self._choose_province(step, draft, index)
            case CalendarMonth(field, month) if field == at:
                return [self._when_question(step, at, month)]
            case CalendarDay(field, day) if field == at:
                return await self._picked_day(step, draft, at, day)
            case QuickTime(field, clock) if at in ("dep_time", "ret_time"):
                return await self._typed_time(step, draft, at, f"{clock:%H:%M}")
            case CaseAreaAnswer(answer) if at == "case_area":
                draft["case_area"] = answer
                return await self._ask_next(step, draft)
            case TravelSignal(word) if at == "summary":
                return await self._summary_button(step, draft, word)
            case EditField(field) if at == "summary":
                draft.pop(field, None)
                return await self._ask_next(step, draft)
        return [OutMessage(step.t._("This button is no longer valid."))]

    # --- typed answers -------------------------------------------------------------------

    async def _typed_destination(
        self, step: Step, draft: Draft, field: str, text: str
    ) -> list[OutMessage]:
        t = step.t
        found = search_provinces(text[:100], limit=6)
        if not found:
            return [
                OutMessage(
                    t._(
                        "No province or city matches «{text}». Type it again (e.g. «Đà Nẵng», «HCM») or pick from the list.",
                        text=text[:100],
                    ),
                    buttons=province_picker(t, 0, _home(step), PROVINCES),
                )
            ]
        exact = [m for m in found if m.exact] if hasattr(found[0], "exact") else []
        if len(found) == 1 or exact or _is_clear_winner(found, text):
            match = exact[0] if exact else found[0]
            return await self._set_province(
                step, draft, match.province.label, match.via, match.matched
            )
        return [
            OutMessage(
                t._("Which one do you mean?"),
                buttons=matches_keyboard([m.province for m in found], PROVINCES),
            )
        ]

    async def _typed_address(
        self, step: Step, draft: Draft, field: str, text: str
    ) -> list[OutMessage]:
        t = step.t
        if not text:
            return [OutMessage(t._("The address cannot be empty."))] + await self._ask(
                step, draft, field
            )
        if len(text) > MAX_ADDRESS:
            return [
                OutMessage(t._("The address is too long: at most {n} characters.", n=MAX_ADDRESS))
            ] + await self._ask(step, draft, field)
        draft["address"] = text
        return await self._ask_next(step, draft)

    async def _typed_when(
        self, step: Step, draft: Draft, field: str, text: str
    ) -> list[OutMessage]:
        parsed = parse_when(text, step.now)
        if isinstance(parsed, ParseFailure):
            error = _parse_error_text(step.t, parsed.reason, step.now.date())
            return [OutMessage(error)] + await self._ask(step, draft, field)
        if not parsed.has_time:
            draft[f"{field}_day"] = parsed.value.date().isoformat()
            return await self._save_and_ask(step, draft, f"{field}_time")
        return await self._set_when(step, draft, field, parsed.value)

    async def _typed_time(
        self, step: Step, draft: Draft, field: str, text: str
    ) -> list[OutMessage]:
        base = field.removesuffix("_time")
        day = date.fromisoformat(draft[f"{base}_day"])
        parsed = parse_when(f"{text[:20]} {day:%d/%m/%Y}", step.now)
        if isinstance(parsed, ParseFailure) or not parsed.has_time:
            reason = parsed.reason if isinstance(parsed, ParseFailure) else ParseError.BAD_TIME
            error = _time_error_text(step.t, reason)
            return [OutMessage(error)] + await self._ask(step, draft, field)
        return await self._set_when(step, draft, base, parsed.value)

    async def _typed_purpose(
        self, step: Step, draft: Draft, field: str, text: str
    ) -> list[OutMessage]:
        t = step.t
        error = validate_purpose(text, max_len=MAX_PURPOSE)
        if error is PurposeError.EMPTY:
            return [OutMessage(t._("Please write the purpose of the trip."))] + await self._ask(
                step, draft, field
            )
        if error is not None:
            return [
                OutMessage(
                    t._(
                        "The purpose is too long: at most {n} characters. Please shorten it.",
                        n=MAX_PURPOSE,
                    )
                )
            ] + await self._ask(step, draft, field)
        draft["purpose"] = text
        return await self._ask_next(step, draft)

    # --- buttons ---------------------------------------------------------------------------

    async def _choose_province(self, step: Step, draft: Draft, index: int) -> list[OutMessage]:
        provinces = all_provinces()
        if not 0 <= index < len(provinces):
            return [OutMessage(step.t._("This button is no longer valid."))]
        return await self._set_province(
            step, draft, provinces[index].label, "name", provinces[index].label
        )

    async def _picked_day(
        self, step: Step, draft: Draft, field: str, day: date | None
    ) -> list[OutMessage]:
        if day is None:
            return [OutMessage(step.t._("This button is no longer valid."))]
        draft[f"{field}_day"] = day.isoformat()
        return await self._save_and_ask(step, draft, f"{field}_time")

    async def _summary_button(self, step: Step, draft: Draft, action: str) -> list[OutMessage]:
        t = step.t
        if action == "ok":
            problems = self._trip_problems(step, draft)
            if problems:
                return await self._reask_dates(step, draft, problems)
            await step.conversations.clear(step.who.channel, step.who.user_ref)
            return await self._submit(step, draft)
        if action == "no":
            await step.conversations.clear(step.who.channel, step.who.user_ref)
            return [OutMessage(t._("Cancelled. Nothing was sent."))]
        if action == "ed":
            return [OutMessage(t._("What do you want to change?"), buttons=_edit_buttons(t))]
        return [OutMessage(t._("This button is no longer valid."))]

    # --- setting fields and asking ---------------------------------------------------------

    async def _set_province(
        self, step: Step, draft: Draft, name: str, via: str, matched: str
    ) -> list[OutMessage]:
        t = step.t
        home = _home(step)
        if same_province(name, home):
            return [
                OutMessage(
                    _inside_home(t, name, home), buttons=province_picker(t, 0, home, PROVINCES)
                )
            ]
        draft["dest"] = name
        notes = (
            [OutMessage(t._("«{typed}» is now part of {name}.", typed=matched, name=name))]
            if via == "absorbed"
            else []
        )
        notes += await destination_warning(step, name)
        return notes + await self._ask_next(step, draft)

    async def _set_when(
        self, step: Step, draft: Draft, field: str, value: datetime
    ) -> list[OutMessage]:
        draft[field] = value.isoformat()
        draft.pop(f"{field}_day", None)
        problems = self._trip_problems(step, draft)
        if problems:
            return await self._reask_dates(step, draft, problems)
        return await self._ask_next(step, draft)

    def _trip_problems(self, step: Step, draft: Draft) -> list[TripError]:
        departure = _when(draft.get("dep"))
        return_at = _when(draft.get("ret"))
        if departure is None:
            return []
        if return_at is None:
            return [
                e
                for e in validate_trip(
                    departure, departure.replace(year=departure.year + 1), step.now, 10**6
                )
                if e is TripError.DEPARTURE_IN_PAST
            ]
        return validate_trip(departure, return_at, step.now, step.deps.settings.max_trip_days)

    async def _reask_dates(
        self, step: Step, draft: Draft, problems: list[TripError]
    ) -> list[OutMessage]:
        t = step.t
        texts = {
            TripError.DEPARTURE_IN_PAST: t._("The departure time has already passed."),
            TripError.RETURN_BEFORE_DEPARTURE: t._("The return must be after the departure."),
            TripError.TOO_LONG: t._(
                "A trip can last at most {n} days.", n=step.deps.settings.max_trip_days
            ),
        }
        field = "dep" if TripError.DEPARTURE_IN_PAST in problems else "ret"
        draft.pop(field, None)
        message = " ".join(texts.get(p, p.value) for p in problems)
        return [OutMessage(message)] + await self._ask_next(step, draft)

    async def _ask_next(self, step: Step, draft: Draft) -> list[OutMessage]:
        missing = next((f for f in FIELDS if f not in draft), None)
        return await self._save_and_ask(step, draft, missing or "summary")

    async def _save_and_ask(self, step: Step, draft: Draft, field: str) -> list[OutMessage]:
        await step.conversations.set(
            step.who.channel, step.who.user_ref, Conversation(FLOW, field, draft), step.now
        )
        return await self._ask(step, draft, field)

    async def ask(self, step: Step, draft: Draft, field: str) -> list[OutMessage]:
        """The question of `field`, for a flow another feature started (changing a trip)."""
        return await self._ask(step, draft, field)

    async def _ask(self, step: Step, draft: Draft, field: str) -> list[OutMessage]:
        t = step.t
        if field == "dest":
            return [self._destination_question(step, 0)]
        if field == "address":
            return [OutMessage(t._("Address at the destination (street, ward or commune)?"))]
        if field in ("dep", "ret"):
            return [self._when_question(step, field, step.now.date().replace(day=1))]
        if field in ("dep_time", "ret_time"):
            day = date.fromisoformat(draft[f"{field[:3]}_day"])
            return [
                OutMessage(
                    t._(
                        "At what time on {day}? Type e.g. «07:30» or «17h», or pick one.",
                        day=t.date(day),
                    ),
                    buttons=time_picker(field[:3], CALENDAR),
                )
            ]
        if field == "purpose":
            if await _under_ban(step, draft):
                return [
                    OutMessage(
                        t._("Travel is suspended. What is the special reason you must travel?")
                    )
                ]
            return [OutMessage(t._("What is the purpose of the trip?"))]
        if field == "case_area":
            return [
                OutMessage(
                    t._(
                        "Will you visit a place where the health authorities have published cases?"
                    ),
                    buttons=(
                        (
                            Button(t._("Yes"), CaseAreaAnswer("yes").encode()),
                            Button(t._("No"), CaseAreaAnswer("no").encode()),
                            Button(t._("I don't know"), CaseAreaAnswer("unknown").encode()),
                        ),
                    ),
                )
            ]
        return [summary_message(t, draft)]

    def _destination_question(self, step: Step, page: int) -> OutMessage:
        t = step.t
        return OutMessage(
            t._(
                "Where are you going? Type the province or city (e.g. «Đà Nẵng», «HCM», «ha noi») or pick it below."
            ),
            buttons=province_picker(t, page, _home(step), PROVINCES),
        )

    def _when_question(self, step: Step, field: str, month: date) -> OutMessage:
        t = step.t
        question = (
            t._(
                "When do you leave? Type e.g. «{example}», «mai 7h», or pick a day.",
                example=t.example(step.now.date(), 3, "07:00"),
            )
            if field == "dep"
            else t._(
                "When do you come back? Type e.g. «{example}», or pick a day.",
                example=t.example(step.now.date(), 4, "18:00"),
            )
        )
        return OutMessage(
            question, buttons=month_calendar(t, field, month, step.now.date(), CALENDAR)
        )


def summary_message(t: Translator, draft: Draft) -> OutMessage:
    lines = [t._("Please check your request:"), ""] + summary_lines(t, draft)
    buttons = (
        (
            Button(t._("✅ Send"), TravelSignal("ok").encode()),
            Button(t._("✏️ Edit"), TravelSignal("ed").encode()),
            Button(t._("❌ Cancel"), TravelSignal("no").encode()),
        ),
    )
    return OutMessage("\n".join(lines), buttons=buttons)


def summary_lines(t: Translator, draft: Draft) -> list[str]:
    departure, return_at = _when(draft["dep"]), _when(draft["ret"])
    assert departure is not None and return_at is not None
    return [
        t._("Destination: {place}", place=f"{draft['address']}, {draft['dest']}"),
        t._("Leaving: {when}", when=t.when(departure)),
        t._("Back: {when}", when=t.when(return_at)),
        t._("Purpose: {purpose}", purpose=draft["purpose"]),
        t._(
            "Visits a place with published cases: {answer}",
            answer=case_area_text(t, draft["case_area"]),
        ),
    ]


def case_area_text(t: Translator, answer: str) -> str:
    return {"yes": t._("yes"), "no": t._("no")}.get(answer, t._("does not know"))


def _edit_buttons(t: Translator) -> tuple[tuple[Button, ...], ...]:
    labels = {
        "dest": t._("Destination"),
        "address": t._("Address"),
        "dep": t._("Departure"),
        "ret": t._("Return"),
        "purpose": t._("Purpose"),
        "case_area": t._("Published cases"),
    }
    items = [Button(labels[f], EditField(f).encode()) for f in FIELDS]
    return tuple(tuple(items[i : i + 2]) for i in range(0, len(items), 2))


def _parse_error_text(t: Translator, reason: ParseError, today: date) -> str:
    texts = {
        ParseError.EMPTY: t._("Please type a date."),
        ParseError.TOO_LONG: t._("That is too long for a date."),
        ParseError.NO_SUCH_DATE: t._("That date does not exist."),
        ParseError.BAD_TIME: t._("That time is not valid: use e.g. 07:30 or 17h."),
    }
    return texts.get(
        reason,
        t._(
            "I could not recognise the date you typed. Type e.g. «{day}», «{moment}», «{short}», «hôm nay» or «mai».",
            day=t.example(today, 3),
            moment=t.example(today, 3, "17:30"),
            short=t.day_month(today + timedelta(days=3)).lstrip("0"),
        ),
    )


def _inside_home(t: Translator, place: str, home: str) -> str:
    if place == home:
        return t._(
            "{home} is where you work: travel inside it needs no permission. Choose a destination outside {home}.",
            home=home,
        )
    return t._(
        "{place} is inside {home}: you do not need permission to travel there. Choose a destination outside {home}.",
        place=place,
        home=home,
    )


async def _under_ban(step: Step, draft: Draft) -> bool:
    """A ban now, or one set ahead that covers the trip's dates."""
    if draft.get("mode") == PolicyMode.BAN.value:
        return True
    departure, return_at = _when(draft.get("dep")), _when(draft.get("ret"))
    if departure is None or return_at is None:
        return False
    return await mode_for_trip(step.tx, departure, return_at) is PolicyMode.BAN


def _time_error_text(t: Translator, reason: ParseError) -> str:
    """At the time step a date is already chosen: ask for a time, not for a date."""
    if reason is ParseError.EMPTY:
        return t._("Please type a time, e.g. «07:30» or «17h».")
    return t._(
        "I could not recognise the time you typed. Type e.g. «07:30» or «17h», or pick one below."
    )


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _home(step: Step) -> str:
    return step.deps.settings.home_province


def _is_clear_winner(found: list[Any], text: str) -> bool:
    from bot.domain.text import fold

    return fold(found[0].matched) == fold(text) or len({m.province.name for m in found}) == 1


__all__ = ["FLOW", "TravelFlow", "case_area_text", "summary_lines", "summary_message", "time"]
