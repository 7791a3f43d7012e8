"""How much of ATLAS, RAND and OWASP the installed library covers (read only).

RAND is reported per attack vector (the 38 of RR-A2849-1, Table 5.1), since a threat may map
several and a category counts as covered long before all its vectors are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from threats.engine.vocab import RAND_VECTORS
from threats.models import AtlasTactic, AtlasTechnique, ThreatTemplate

# The tactics through which models are reached, collected and taken out.
COVERAGE_TACTICS = ("AML.TA0000", "AML.TA0009", "AML.TA0010", "AML.TA0013", "AML.TA0004")
OWASP_IDS = tuple(f"ML{n:02d}:2023" for n in range(1, 11)) + tuple(f"LLM{n:02d}:2025" for n in range(1, 11))


@dataclass
class TacticCoverage:
    tactic_id: str
    name: str
    mapped: list[tuple[str, str, list[str]]] = field(default_factory=list)  # id, name, threat codes
    unmapped: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class RandVectorCoverage:
    category: str
    vector: str
    threats: list[str]  # the active threats that map it; empty when none does


@dataclass
class CoverageReport:
    tactics: list[TacticCoverage]
    rand_vectors: list[RandVectorCoverage]  # all 38, by category then vector
    rand_covered: dict[str, list[str]]  # category -> threat codes mapping any of its vectors
    rand_missing: list[str]  # categories no threat maps
    owasp_covered: dict[str, list[str]]
    owasp_missing: list[str]

    @property
    def rand_vectors_mapped(self) -> int:
        return sum(1 for v in self.rand_vectors if v.threats)

    @property
    def rand_vectors_missing(self) -> list[str]:
        return [f"{v.category}/{v.vector}" for v in self.rand_vectors if not v.threats]


def library_coverage() -> CoverageReport:
    """Coverage of the active threats; raises LookupError when ATLAS has not been imported."""
    if not AtlasTactic.objects.exists():
        raise LookupError("ATLAS is not imported; run `manage.py import_atlas PATH` first.")
    threats = list(ThreatTemplate.objects.filter(active=True).order_by("code"))
    by_technique: dict[str, list[str]] = {}
    for threat in threats:
        for atlas_id in threat.atlas_ids:
            by_technique.setdefault(atlas_id, []).append(threat.code)
    tactics = []
    for tactic in AtlasTactic.objects.filter(atlas_id__in=COVERAGE_TACTICS):
        entry = TacticCoverage(tactic.atlas_id, tactic.name)
        techniques = AtlasTechnique.objects.filter(tactics=tactic) | AtlasTechnique.objects.filter(
            parent__tactics=tactic
        )
        for technique in techniques.distinct().order_by("atlas_id"):
            codes = by_technique.get(technique.atlas_id, [])
            if codes:
                entry.mapped.append((technique.atlas_id, technique.name, codes))
            else:
                entry.unmapped.append((technique.atlas_id, technique.name))
        tactics.append(entry)
    tactics.sort(key=lambda t: COVERAGE_TACTICS.index(t.tactic_id))
    by_vector: dict[tuple[str, str], list[str]] = {}
    rand: dict[str, list[str]] = {}
    owasp: dict[str, list[str]] = {}
    for threat in threats:
        for entry in threat.rand_vectors:
            by_vector.setdefault((entry["category"], entry["vector"]), []).append(threat.code)
            codes = rand.setdefault(entry["category"], [])
            if threat.code not in codes:
                codes.append(threat.code)
        for owasp_id in threat.owasp_ids:
            owasp.setdefault(owasp_id, []).append(threat.code)
    vectors = [
        RandVectorCoverage(category, vector, by_vector.get((category, vector), []))
        for category in sorted(RAND_VECTORS)
        for vector in sorted(RAND_VECTORS[category])
    ]
    return CoverageReport(
        tactics=tactics,
        rand_vectors=vectors,
        rand_covered=dict(sorted(rand.items())),
        rand_missing=sorted(set(RAND_VECTORS) - set(rand)),
        owasp_covered={k: owasp[k] for k in OWASP_IDS if k in owasp},
        owasp_missing=[k for k in OWASP_IDS if k not in owasp],
    )
