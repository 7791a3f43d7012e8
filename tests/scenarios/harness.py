"""Run a reference scenario through the product's engine and read what the expectations need.

The system is built by ``loader`` exactly as the scenario describes it; it is priced by the same
``compute_risk`` the recompute pipeline calls, with the installed library files of the
repository. Results are cached per (scenario, variant): the lines of one scenario share a run.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from tests.conftest import find_shared
from tests.scenarios.loader import Scenario, build, read
from threats.engine.library import Library, load_library
from threats.engine.results import FindingRisk, FindingView, RiskResult
from threats.engine.risk import compute_risk

DRAWS = 4000
REPO = Path(settings.BASE_DIR)


@functools.cache
def library() -> Library:
    return load_library(
        (REPO / "threats" / "library" / "threats.yaml").read_bytes(),
        (REPO / "threats" / "library" / "controls.yaml").read_bytes(),
    )


@functools.cache
def raw(name: str) -> dict[str, Any]:
    return read(find_shared(f"scenarios/{name}.json"))


@dataclass
class Run:
    scenario: Scenario
    result: RiskResult

    # -- findings -------------------------------------------------------------------------------
    def target(self, name: str) -> tuple[str, int]:
        if "->" in name:
            return "flow", self.scenario.flow_id[name]
        return "asset", self.scenario.asset_id[name]

    def finding(self, code: str, target: str) -> FindingRisk | None:
        kind, ident = self.target(target)
        return self.result.findings.get((code, kind, ident))

    def findings(self, code: str) -> list[FindingRisk]:
        return [f for f in self.result.findings.values() if f.threat_code == code]

    def open(self, code: str, target: str) -> FindingRisk | None:
        """The finding if it exists with current frequency > 0 (the README's "exists")."""
        f = self.finding(code, target)
        return f if f is not None and f.views["current"].frequency > 0 else None

    def with_atlas(self, *ids: str) -> list[FindingRisk]:
        codes = {t.code for t in library().threats if set(ids) & set(t.atlas)}
        return [f for f in self.result.findings.values() if f.threat_code in codes]

    def current(self, finding: FindingRisk) -> FindingView:
        return finding.views["current"]

    def loss(self, finding: FindingRisk, view: str = "current") -> float:
        return finding.views[view].loss

    def share(self, finding: FindingRisk, attacker: str, view: str = "current") -> float:
        """The profile's share of the finding's frequency."""
        ident = self.scenario.attacker_id[attacker]
        figures = finding.views[view]
        if figures.frequency <= 0:
            return 0.0
        mine = sum(p["frequency"] for p in figures.explanation["profiles"] if p["attacker_id"] == ident)
        return mine / figures.frequency

    def realised_by(self, finding: FindingRisk) -> set[str]:
        return {p["name"] for p in finding.views["current"].explanation["profiles"] if p["frequency"] > 0}

    def ranked(self) -> list[FindingRisk]:
        """All findings by current expected annual loss, ties by frequency."""
        return sorted(
            self.result.findings.values(),
            key=lambda f: (-f.views["current"].loss, -f.views["current"].frequency, f.key),
        )

    def magnitude_mean(self, finding: FindingRisk) -> float:
        m = finding.magnitude
        return (m.low + 4 * m.likely + m.high) / 6

    # -- jewels, system, routes -----------------------------------------------------------------
    def jewel(self, name: str, view: str = "current") -> float:
        return self.result.jewels[self.scenario.asset_id[name]].views[view].expected

    def system(self, view: str = "current") -> float:
        return self.result.system[view].expected

    def path(self, attacker: str, jewel: str) -> tuple[list[str], float]:
        """The most probable route's places, entry first and the jewel last, and its probability."""
        route = self.result.routes.get((self.scenario.attacker_id[attacker], self.scenario.asset_id[jewel]))
        if route is None:
            return [], 0.0
        names = self.scenario.asset_name
        zones = {z.id: z.name for z in self.scenario.snapshot.zones}
        places: list[str] = []
        for step in route.steps:
            for kind, ident in (step.source, step.target):
                if kind == "internet":
                    label = "internet"
                elif kind == "zone":
                    label = zones[ident]
                else:
                    label = names[ident]
                if not places or places[-1] != label:
                    places.append(label)
        return places, route.probability

    def budgets(self, code: str, target: str, view: str = "current") -> dict[str, Any]:
        kind, ident = self.target(target)
        per = self.result.extraction.get((code, kind, ident), {}).get(view, ())
        return {a.name: b for a, b in zip(self.scenario.attackers, per, strict=False)}


@functools.cache
def run(name: str, variant: str | None = None) -> Run:
    scenario = build(raw(name), variant)
    lib = library()
    result = compute_risk(
        scenario.snapshot, lib, scenario.attackers, scenario.views(lib), seed=7, draws=DRAWS, explain_top=10**6
    )
    return Run(scenario, result)
