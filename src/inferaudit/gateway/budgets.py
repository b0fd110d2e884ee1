"""Spend budgets per virtual key, user, team or feature, enforced in the request path.

A budget is ``usd`` per ``day``, ``week``, ``month`` or in ``total``. A
request is refused with the protocol's own 403 once any budget it falls
under is spent. Under concurrency the overshoot stays within one request:
while the remaining money covers every in-flight request at the largest
cost seen so far under that budget, requests run in parallel; closer to
the limit they run one at a time, so at most one request can cross it.
(The bound assumes no request costs more than the largest one seen; the
first request under a budget always runs alone, so that estimate exists.)

Spent money is counted per gateway process and seeded at start from the
ledger's spend in the current period, so a restart does not reset it.
Crossing ``alert_at`` (default 80%) of a budget logs a warning once per
period and shows in ``/metrics`` (``inferaudit_budget_spent_usd`` against
``inferaudit_budget_limit_usd``), before the budget is hit.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable

log = logging.getLogger("inferaudit.gateway.budgets")

SCOPES = ("key", "user", "team", "feature")
PERIODS = ("day", "week", "month", "total")


@dataclass(frozen=True)
class Budget:
    scope: str
    """What the budget is for: key (a virtual key, by its name), user, team or feature."""
    name: str
    usd: float
    period: str = "month"
    alert_at: float = 0.8
    """Share of the budget at which an alert is raised."""

    @property
    def label(self) -> str:
        return f"{self.scope} {self.name!r}: ${self.usd:g} per {self.period}"


def period_start(period: str, now: datetime) -> datetime:
    day = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return datetime(1970, 1, 1, tzinfo=timezone.utc)


class _State:
    __slots__ = ("spent", "start", "in_flight", "largest", "alerted", "changed")

    def __init__(self, start: datetime):
        self.spent, self.start, self.in_flight, self.largest, self.alerted = 0.0, start, 0, 0.0, False
        self.changed = asyncio.Condition()


class Budgets:
    def __init__(self, budgets: Iterable[Budget], clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.budgets = tuple(budgets)
        self.clock = clock
        self._state = {b: _State(period_start(b.period, clock())) for b in self.budgets}

    def __bool__(self) -> bool:
        return bool(self.budgets)

    def matching(self, who: dict[str, str | None]) -> list[Budget]:
        """The budgets a request falls under; ``who`` maps scope -> its value for this request."""
        return [b for b in self.budgets if who.get(b.scope) == b.name]

    def seed(self, spent: dict[Budget, float]) -> None:
        for budget, usd in spent.items():
            self._current(budget).spent = usd

    async def admit(self, budgets: list[Budget]) -> str | None:
        """Wait until the request may run; None when admitted (call ``release`` after), else why it is refused.

        Admission is all or nothing: a request that must wait under one budget holds no place under
        the others meanwhile (two requests can never wait on each other).
        """
        while True:
            blocked = None
            for i, budget in enumerate(budgets):
                state = self._current(budget)
                if state.spent >= budget.usd:
                    await self.release(budgets[:i])
                    return f"budget exhausted for {budget.label} (spent ${state.spent:.4f})"
                if not self._may_run(budget, state):
                    await self.release(budgets[:i])
                    blocked = (budget, state)
                    break
                state.in_flight += 1
            if blocked is None:
                return None
            budget, state = blocked
            async with state.changed:  # near the limit: one at a time
                await state.changed.wait_for(lambda: state.spent >= budget.usd or self._may_run(budget, state))

    @staticmethod
    def _may_run(budget: Budget, state: _State) -> bool:
        room = budget.usd - state.spent
        return state.in_flight == 0 or (state.largest > 0 and room > (state.in_flight + 1) * state.largest)

    def settle(self, budgets: list[Budget], usd: float) -> None:
        """Book the cost of one upstream call (every attempt costs what it billed)."""
        for budget in budgets:
            state = self._current(budget)
            state.spent += usd
            state.largest = max(state.largest, usd)
            if not state.alerted and state.spent >= budget.alert_at * budget.usd:
                state.alerted = True
                log.warning("budget alert: %s is %.0f%% spent ($%.4f)", budget.label, 100 * state.spent / budget.usd,
                            state.spent)

    async def release(self, budgets: list[Budget]) -> None:
        for budget in budgets:
            await self._release_one(budget)

    async def _release_one(self, budget: Budget) -> None:
        state = self._current(budget)
        async with state.changed:
            state.in_flight -= 1
            state.changed.notify_all()

    def status(self, budgets: Iterable[Budget] | None = None) -> list[dict[str, Any]]:
        """Limit and spend of ``budgets`` (default: all)."""
        return [{"scope": b.scope, "name": b.name, "period": b.period, "limit_usd": b.usd,
                 "spent_usd": self._current(b).spent, "since": self._current(b).start.isoformat()}
                for b in (self.budgets if budgets is None else budgets)]

    def _current(self, budget: Budget) -> _State:
        state = self._state[budget]
        start = period_start(budget.period, self.clock())
        if start != state.start:  # a new period: the money is back
            state.spent, state.start, state.alerted = 0.0, start, False
        return state


def parse_budgets(where: str, items: Any) -> tuple[Budget, ...]:
    from .config import ConfigError

    out = []
    for i, spec in enumerate(items or [], 1):
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}: budgets[{i}] must be a mapping")
        scopes = [s for s in SCOPES if s in spec]
        if len(scopes) != 1:
            raise ConfigError(f"{where}: budgets[{i}] needs exactly one of {', '.join(SCOPES)}")
        period = spec.get("period", "month")
        if period not in PERIODS:
            raise ConfigError(f"{where}: budgets[{i}].period must be one of {', '.join(PERIODS)}")
        try:
            usd, alert_at = float(spec["usd"]), float(spec.get("alert_at", 0.8))
        except (KeyError, TypeError, ValueError):
            raise ConfigError(f"{where}: budgets[{i}] needs usd: a number") from None
        if usd <= 0 or not 0 < alert_at <= 1:
            raise ConfigError(f"{where}: budgets[{i}]: usd must be > 0 and alert_at in (0, 1]")
        out.append(Budget(scopes[0], str(spec[scopes[0]]), usd, period, alert_at))
    return tuple(out)
