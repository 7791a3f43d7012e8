"""The advisor on a reference scenario, through the engine function the advice page calls."""

from __future__ import annotations

import functools

from tests.scenarios.harness import library, raw
from tests.scenarios.loader import build
from threats.engine.advisor import Advice, plan_for


@functools.cache
def advice_for(name: str, appetite: float, variant: str | None = None) -> tuple[Advice, dict[str, int]]:
    scenario = build(raw(name), variant)
    lib = library()
    plan = plan_for(scenario.snapshot, lib, scenario.attackers, scenario.views(lib)["projected"], appetite)
    return plan.advice, scenario.asset_id
