"""The health capability as a dispatcher feature: /symptoms, /case, /areas, /monitor, the alert
ack button, check-ins and the sweep jobs (alert escalation, daily check-ins)."""

from __future__ import annotations

from bot.services.health.alerts import ACK_PREFIX
from bot.services.health.areas import PREFIX as AREA_PREFIX
from bot.services.health.areas import Areas
from bot.services.health.cases import FLOW as CASE_FLOW
from bot.services.health.cases import PREFIX as CASE_PREFIX
from bot.services.health.cases import Cases
from bot.services.health.flow import FLOW as SYMPTOM_FLOW
from bot.services.health.flow import PREFIX as SYMPTOM_PREFIX
from bot.services.health.flow import SymptomFlow, acknowledge
from bot.services.health.monitoring import (
    CHECKIN_PREFIX,
    END_FLOW,
    MONITOR_PREFIX,
    MonitoringDesk,
    MonitoringSweep,
)
from bot.services.health.sweep import AlertSweep
from bot.services.kernel.feature import Feature
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
            buttons={
                SYMPTOM_PREFIX: self.symptoms.button,
                ACK_PREFIX: acknowledge,
                CHECKIN_PREFIX: self.desk.checkin,
                MONITOR_PREFIX: self.desk.end_button,
                CASE_PREFIX: self.cases.button,
                AREA_PREFIX: self.areas.button,
            },
            jobs=[AlertSweep(self.deps), monitoring],
            wakes=[monitoring.next_checkin],
        )
