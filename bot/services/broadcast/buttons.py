"""The broadcast feature's buttons (`bc:`): the reader's «I have read it», the admin's views
of one directive, and the steps of writing one."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.kernel.buttons import ActionOn, Choice, Codec, Signal

AUDIENCE_KINDS = ("all", "units", "kinds", "groups", "roles")
POLICIES = ("ban", "normal")


@dataclass(frozen=True)
class DirectiveAction(ActionOn):
    """On directive N: `r` read it, `s` show it again, `u` who has not read, `rm` remind them,
    `xl` export the read list, `cx` cancel it while scheduled or waiting for sign-off; a
    leader's `ok` sign it off, `rt` return it (the reason is asked); the admin's `re` submit
    it again, `fx` correct it (`fxy` send the correction, `fxn` not), `rc` recall it (`rcy`
    yes, recall)."""

    PREFIX = "bc"
    ACTIONS = ("r", "s", "u", "rm", "xl", "cx", "ok", "rt", "re", "fx", "fxy", "fxn", "rc", "rcy")


@dataclass(frozen=True)
class DraftSignal(Signal):
    """`bc:noop` (an inert label); in the writing: `done` with the content, send `now`, send
    `later`, `go` for the chosen time, `x` cancel."""

    PREFIX = "bc"
    WORDS = ("noop", "done", "now", "later", "go", "x")


@dataclass(frozen=True)
class AudienceKind(Choice):
    PREFIX = "bc"
    VERB = "aud"
    VALUES = AUDIENCE_KINDS


@dataclass(frozen=True)
class TravelPolicyChoice(Choice):
    """`bc:pol:ban`: change the travel policy together with the directive (tap again: not)."""

    PREFIX = "bc"
    VERB = "pol"
    VALUES = POLICIES


BroadcastButton = DirectiveAction | DraftSignal | AudienceKind | TravelPolicyChoice
BROADCASTS = Codec[BroadcastButton](
    "bc", (DirectiveAction, DraftSignal, AudienceKind, TravelPolicyChoice)
)
INERT = DraftSignal("noop")
