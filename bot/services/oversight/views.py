"""How oversight reads in a chat: a head's unit today, the district per unit, the digests."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from bot.domain.directory import Directory
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.broadcast.buttons import DirectiveAction
from bot.services.kernel.people import not_registered_line
from bot.services.returns.buttons import MeasureAction, TripAction
from bot.services.returns.measures import measure_line
from bot.services.travel.buttons import Decide
from bot.services.violations.buttons import ViolationPerson
from storage.measures_repo import ReturnMeasure
from storage.oversight_repo import HealthLine, Trip, UnitFigures, Unread, Waiting

SECTION_LINES = 40  # people listed per section; the rest are counted
MAX_BUTTONS = 24  # quick actions under one /unit answer


@dataclass
class UnitPicture:
    trips: list[Trip]
    windows: list[Trip]
    waiting: list[Waiting]
    health: list[HealthLine]
    unread: list[Unread]
    buttons: list[Button] = field(default_factory=list)
    measures: list[ReturnMeasure] = field(default_factory=list)  # testing, isolation on return


def who(directory: Directory, staff_id: str, home_unit: str) -> str:
    person = directory.person(staff_id)
    if person is None:
        return staff_id
    if person.unit_id == home_unit:
        return person.full_name
    unit = directory.unit(person.unit_id)
    return f"{person.full_name} ({unit.name if unit else person.unit_id})"


def button_name(directory: Directory, staff_id: str) -> str:
    """The name on a button: the full name (given names repeat: two «Linh» would be a guess)."""
    person = directory.person(staff_id)
    return person.full_name[:28] if person else staff_id


T = TypeVar("T", Trip, HealthLine)


def once_each(
    items: list[T], key: Callable[[T], object] = lambda item: item.staff_id
) -> list[tuple[T, int]]:
    """Each person once (their first item, in the order given), with how many more they have:
    two trips make one line and one button, not two of each."""
    first: dict[object, list[T]] = {}
    for item in items:
        first.setdefault(key(item), []).append(item)
    return [(group[0], len(group) - 1) for group in first.values()]


def _section(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    shown = items[:SECTION_LINES]
    more = [f"  … +{len(items) - len(shown)}"] if len(items) > len(shown) else []
    return ["", title, *shown, *more]


def unit_text(
    t: Translator,
    directory: Directory,
    home_unit: str,
    picture: UnitPicture,
    now: datetime,
    asked_after: timedelta = timedelta(0),
) -> list[str]:
    """The sections of /unit; quick-action buttons are collected into `picture.buttons`.

    A return counts as not reported `asked_after` (RETURN_GRACE) past the planned return, when
    the person is asked again, as in the digests and /district; until then they are away.
    """

    def name(staff_id: str) -> str:
        return who(directory, staff_id, home_unit)

    add = picture.buttons.append
    today = now.date()

    def not_reported(trip: Trip) -> bool:
        return trip.return_at + asked_after <= now

    away = once_each([trip for trip in picture.trips if not not_reported(trip)])
    late = once_each([trip for trip in picture.trips if not_reported(trip)])
    back_today = [(x, more) for x, more in away if x.return_at.date() == today]

    def also(more: int) -> str:
        return t.n_(" (+{n} more trip)", " (+{n} more trips)", more) if more else ""

    lines: list[str] = []
    lines += _section(t._("✈️ Away now ({n}):", n=len(away)), [
        "• " + t._("{name} — {place}, back {when}", name=name(x.staff_id), place=x.destination, when=t.short(x.return_at)) + also(more) for x, more in away])  # fmt: skip
    lines += _section(t._("🏠 Back today ({n}):", n=len(back_today)), [
        "• " + t._("{name} — {place}, at {time}", name=name(x.staff_id), place=x.destination, time=x.return_at.strftime("%H:%M")) for x, _ in back_today])  # fmt: skip
    lines += _section(t._("❓ Return not reported ({n}):", n=len(late)), [
        "• " + t._("{name} — {place}, was due back {when}", name=name(x.staff_id), place=x.destination, when=t.short(x.return_at)) + also(more) for x, more in late])  # fmt: skip
    askable = [trip for trip in picture.trips if not_reported(trip) and trip.state == "away"]
    for trip, _ in once_each(askable):
        add(
            Button(
                t._("❓ Ask {name}", name=button_name(directory, trip.staff_id)),
                TripAction("ask", trip.request_id).encode(),
            )
        )
    windows = [w for w, _ in once_each(picture.windows)]  # the earliest deadline a person
    open_windows = [w for w in windows if w.deadline_at and w.deadline_at > now]
    overdue = [w for w in windows if w.deadline_at and w.deadline_at <= now]
    lines += _section(t._("⚠️ Health declaration overdue ({n}):", n=len(overdue)), [
        "• " + t._("{name} — due {when}", name=name(w.staff_id), when=t.short(w.deadline_at)) for w in overdue if w.deadline_at])  # fmt: skip
    lines += _section(t._("🩺 Within the 24 hours to declare ({n}):", n=len(open_windows)), [
        "• " + t._("{name} — by {when}", name=name(w.staff_id), when=t.short(w.deadline_at)) for w in open_windows if w.deadline_at])  # fmt: skip
    for window in overdue + open_windows:
        add(
            Button(
                t._("🔔 Remind {name}", name=button_name(directory, window.staff_id)),
                TripAction("nag", window.request_id).encode(),
            )
        )
    lines += _section(t._("🗂 Waiting for a decision ({n}):", n=len(picture.waiting)), [
        "• " + t._("#{id} {name} — {place}, leaves {when}", id=w.request_id, name=name(w.staff_id), place=w.destination, when=t.short(w.departure_at)) for w in picture.waiting])  # fmt: skip
    for request in picture.waiting:
        if request.mine:
            add(
                Button(
                    t._("✅ #{id}", id=request.request_id),
                    Decide(request.request_id, True).encode(),
                )
            )
            add(
                Button(
                    t._("❌ #{id}", id=request.request_id),
                    Decide(request.request_id, False).encode(),
                )
            )
    lines += _measures_section(t, directory, picture, name, now)
    answerable = [x.staff_id for x, _ in late] + [w.staff_id for w in overdue]
    answerable += [
        m.staff_id
        for m in picture.measures
        if m.test_result is None and m.test_due_at is not None and m.test_due_at <= now
    ]
    violation_buttons = [
        Button(
            t._("⚠️ Violation: {name}", name=button_name(directory, staff_id)),
            ViolationPerson(staff_id).encode(),
        )
        for staff_id in dict.fromkeys(answerable)
    ]
    health = [h for h, _ in once_each(picture.health, lambda h: (h.staff_id, h.kind))]
    lines += _section(t._("🤒 Monitoring and symptoms ({n}):", n=len(health)), [
        "• " + _health_line(t, name(h.staff_id), h) for h in health])  # fmt: skip
    for item in picture.unread:
        lines += _section(
            t._(
                "📄 Not read: {number} «{title}» ({n}):",
                number=item.number,
                title=item.title[:60],
                n=len(item.staff_ids),
            ),
            [
                line
                for line in (
                    _names_line([name(s) for s in item.staff_ids]),
                    not_registered_line(t, [name(s) for s in item.not_registered]),
                )
                if line
            ],
        )
        add(
            Button(
                t._("👥 Who has not read {number}", number=item.number)[:60],
                DirectiveAction("u", item.broadcast_id).encode(),
            )
        )
    picture.buttons.extend(violation_buttons)
    return lines


def _measures_section(
    t: Translator,
    directory: Directory,
    picture: UnitPicture,
    name: Callable[[str], str],
    now: datetime,
) -> list[str]:
    """Testing and isolation after returns from areas with cases, with a reminder button for
    each test result that is overdue."""
    lines = _section(
        t._("🧪 Testing and isolation after a return ({n}):", n=len(picture.measures)),
        ["• " + measure_line(t, name(m.staff_id), m, now) for m in picture.measures],
    )
    for m in picture.measures:
        if m.test_result is None and m.test_due_at is not None and m.test_due_at <= now:
            picture.buttons.append(
                Button(
                    t._("🔔 Test result: {name}", name=button_name(directory, m.staff_id)),
                    MeasureAction("tnag", m.request_id).encode(),
                )
            )
    return lines


def _names_line(names: list[str]) -> str:
    if not names:
        return ""
    more = len(names) - SECTION_LINES
    return "• " + ", ".join(names[:SECTION_LINES]) + (f" … +{more}" if more > 0 else "")


def _health_line(t: Translator, name: str, line: HealthLine) -> str:
    if line.kind == "monitoring":
        until = line.until or ""
        day = f"{until[8:10]}/{until[5:7]}/{until[:4]}" if until else "?"
        return t._("{name} — under monitoring until {day}", name=name, day=day)
    if line.detail == "urgent":
        return t._("{name} — urgent symptoms reported {when}", name=name, when=t.short(line.at))
    return t._("{name} — symptoms reported {when}", name=name, when=t.short(line.at))


def unit_messages(
    t: Translator, head_line: str, lines: list[str], buttons: list[Button]
) -> list[OutMessage]:
    if not lines:
        lines = ["", t._("Nothing needs your attention today.")]
    # split to its channel's length as it leaves, the buttons on the last part
    return [OutMessage("\n".join([head_line, *lines]), buttons=_pairs(buttons[:MAX_BUTTONS]))]


def _pairs(buttons: list[Button]) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))


# --------------------------------------------------------------------------- the district


def share(on_time: int, due: int) -> float | None:
    return on_time / due if due else None


def median_minutes(values: list[float] | None) -> float | None:
    return statistics.median(values) if values else None


def duration_text(t: Translator, minutes: float | None) -> str:
    if minutes is None:
        return "—"
    total = round(minutes)
    if total < 60:
        return t._("{m} min", m=total)
    if total < 48 * 60:
        return t._("{h} h {m:02d}", h=total // 60, m=total % 60)
    return t._("{d} days", d=total // 1440)


def worst_first(figures: Iterable[UnitFigures]) -> list[UnitFigures]:
    def key(f: UnitFigures) -> tuple[float, ...]:
        ratio = share(f.on_time_week, f.due_week)
        return (
            -(f.overdue + f.not_reported),
            ratio if ratio is not None else 2.0,
            -f.unread,
            -(median_minutes(f.decision_minutes) or 0),
            -f.away,
        )

    return sorted(figures, key=key)


def not_registered_note(t: Translator, n: int) -> str:
    """After an unread count: the copies that could not go out, counted apart."""
    return t._(" (+{n} not registered)", n=n) if n else ""


def violations_note(t: Translator, n: int) -> str:
    """After a unit's figures: the violations recorded in the last 30 days, when there are."""
    return t._(" · violations (30 days): {n}", n=n) if n else ""


def district_line(t: Translator, directory: Directory, rank: int, f: UnitFigures) -> str:
    unit = directory.unit(f.unit_id)
    ratio = share(f.on_time_week, f.due_week)
    on_time = f"{ratio:.0%} ({f.on_time_week}/{f.due_week})" if ratio is not None else "—"
    return t._(
        "{rank}. {unit}: away {away} · within 24 h {on_time} · overdue {overdue} · decision {median} · unread {unread}",
        rank=rank, unit=unit.name if unit else f.unit_id, away=f.away, on_time=on_time, overdue=f.overdue,
        median=duration_text(t, median_minutes(f.decision_minutes)), unread=f.unread,
    ) + not_registered_note(t, f.not_registered) + violations_note(t, f.violations)  # fmt: skip


def district_totals(t: Translator, figures: list[UnitFigures], units: int) -> str:
    due = sum(f.due_week for f in figures)
    on_time = sum(f.on_time_week for f in figures)
    ratio = share(on_time, due)
    minutes = [m for f in figures for m in (f.decision_minutes or [])]
    return t._(
        "📊 {units} units — away now: {away}; returns declared within 24 h (7 days): {on_time}; overdue: {overdue}; "
        "median time to a decision (30 days): {median}; unread copies of the latest directives: {unread}",
        units=units, away=sum(f.away for f in figures), on_time=f"{ratio:.0%} ({on_time}/{due})" if ratio is not None else "—",
        overdue=sum(f.overdue for f in figures), median=duration_text(t, median_minutes(minutes)), unread=sum(f.unread for f in figures),
    ) + not_registered_note(t, sum(f.not_registered for f in figures)) + violations_note(
        t, sum(f.violations for f in figures))  # fmt: skip


def district_text(
    t: Translator, directory: Directory, figures: dict[str, UnitFigures], limit: int
) -> str:
    every = [figures.get(unit_id) or UnitFigures(unit_id) for unit_id in directory.units]
    ranked = worst_first(every)
    lines = [district_totals(t, every, len(every)), ""]
    lines += [district_line(t, directory, i, f) for i, f in enumerate(ranked[:limit], start=1)]
    if len(ranked) > limit:
        lines.append(
            t._("… {n} more units: /export for the full registers.", n=len(ranked) - limit)
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- digests


def digest_items(t: Translator, f: UnitFigures) -> list[str]:
    items: list[tuple[int, Callable[[int], str]]] = [
        (f.overdue, lambda n: t._("health declarations overdue: {n}", n=n)),
        (f.not_reported, lambda n: t._("returns not reported: {n}", n=n)),
        (f.pending, lambda n: t._("requests waiting for a decision: {n}", n=n)),
        (f.symptoms, lambda n: t._("symptom reports in the last 24 hours: {n}", n=n)),
        (f.unread, lambda n: t._("people who have not read the latest directives: {n}", n=n)),
    ]
    return ["• " + text(count) for count, text in items if count]


def daily_digest(t: Translator, unit_name: str, items: list[str]) -> OutMessage:
    text = "\n".join(
        [
            t._("☀️ Good morning. In {unit} and the units below, today:", unit=unit_name),
            *items,
            "",
            t._("Details and reminders: /unit"),
        ]
    )
    return OutMessage(text)


GAPS_LISTED = 30


def unregistered_deciders_text(t: Translator, directory: Directory, staff_ids: list[str]) -> str:
    """The people requests are routed to who have never opened the bot: their requests go to
    someone above them meanwhile, and what they should be told does not reach them."""
    lines = [
        t._(
            "⚠️ {n} people who decide requests have not opened the bot yet, so requests meant for them go to a leader above or to the admins:",
            n=len(staff_ids),
        )
    ]
    lines += [f"• {who(directory, s, '')}" for s in staff_ids[:GAPS_LISTED]]
    if len(staff_ids) > GAPS_LISTED:
        lines.append(t._("… and {n} more.", n=len(staff_ids) - GAPS_LISTED))
    return "\n".join(lines)
