"""Personal data as a dispatcher feature: /privacy, the consent and request buttons, the gate
that keeps a purpose's flows closed without its basis, and the requests' sweep."""

from __future__ import annotations

from bot.domain.models import Staff
from bot.outgoing import OutMessage
from bot.services.kernel.feature import ButtonRoute, Feature
from bot.services.kernel.step import Deps, Step
from bot.services.privacy.buttons import CONSENTS, REQUESTS, RIGHTS
from bot.services.privacy.flow import FLOW, ConsentFlow, RequestDesk, Rights, Welcome


class Privacy:
    def __init__(self, deps: Deps, welcome: Welcome) -> None:
        self.deps = deps
        self.consents = ConsentFlow(deps, welcome)
        self.desk = RequestDesk(deps)
        self.rights = Rights(deps, self.consents, self.desk)

    async def on_registered(self, step: Step, person: Staff) -> list[OutMessage]:
        return await self.consents.on_registered(step, person)

    def feature(self) -> Feature:
        return Feature(
            commands={"privacy": self.rights.command},
            flows={FLOW: self.rights.on_text},
            buttons=[
                ButtonRoute(CONSENTS, self.consents.answer),
                ButtonRoute(RIGHTS, self.rights.button),
                ButtonRoute(REQUESTS, self.desk.button),
            ],
            jobs=[self.desk.sweep],
            gates=[self.consents.gate],
        )
