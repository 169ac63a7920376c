"""The health capability as a dispatcher feature: /symptoms, /case, /areas, /monitor, the alert
ack button, check-ins and the sweep jobs (alert escalation, daily check-ins)."""

from __future__ import annotations

from bot.services.health.areas import Areas
from bot.services.health.buttons import (
    ACKNOWLEDGE,
    AREAS,
    CASES,
    CHECKINS,
    DETAILS,
    MONITORINGS,
    SYMPTOMS,
)
from bot.services.health.cases import FLOW as CASE_FLOW
from bot.services.health.cases import Cases
from bot.services.health.details import show_detail
from bot.services.health.flow import FLOW as SYMPTOM_FLOW
from bot.services.health.flow import SymptomFlow, acknowledge
from bot.services.health.monitoring import END_FLOW, MonitoringDesk, MonitoringSweep
from bot.services.health.outside import OUTSIDE, mark_sent
from bot.services.health.sweep import AlertSweep
from bot.services.kernel.feature import ButtonRoute, Feature
from bot.services.kernel.step import Deps


class Health:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.symptoms = SymptomFlow()
        self.cases = Cases()
        self.areas = Areas()
        self.desk = MonitoringDesk(self.symptoms)

    def feature(self) -> Feature:
        monitoring = MonitoringSweep(self.deps)
        return Feature(
            commands={
                "symptoms": self.symptoms.command,
                "case": self.cases.command,
                "areas": self.areas.command,
                "monitor": self.desk.command,
            },
            flows={
                SYMPTOM_FLOW: self.symptoms.on_text,
                CASE_FLOW: self.cases.on_text,
                END_FLOW: self.desk.end_reason,
            },
            buttons=[
                ButtonRoute(SYMPTOMS, self.symptoms.button),
                ButtonRoute(ACKNOWLEDGE, acknowledge),
                ButtonRoute(DETAILS, show_detail),
                ButtonRoute(CHECKINS, self.desk.checkin),
                ButtonRoute(MONITORINGS, self.desk.end_button),
                ButtonRoute(CASES, self.cases.button),
                ButtonRoute(AREAS, self.areas.button),
                ButtonRoute(OUTSIDE, mark_sent),
            ],
            jobs=[AlertSweep(self.deps), monitoring],
            wakes=[monitoring.next_checkin],
        )
