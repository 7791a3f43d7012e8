"""frontier-lab: a frontier-model lab (``../shared/scenarios/frontier-lab.json``), one test per
``expect`` line (``frontier-lab#n``). The line's text is the test's docstring."""

from __future__ import annotations

import pytest

from tests.scenarios.advice import advice_for
from tests.scenarios.harness import raw, run

NAME = "frontier-lab"
WEIGHTS, CKPT = "frontier-weights", "nextgen-checkpoints"
RESEARCH = {"ckpt-store", "training-cluster", "eval-api", "eval-host"}


def _full_takers(r, jewel: str) -> list:  # type: ignore[no-untyped-def]
    ident = r.scenario.asset_id[jewel]
    return [
        f
        for f in r.result.findings.values()
        if f.role == "theft"
        and any(j["jewel_id"] == ident and j["share"] >= 1.0 for j in r.current(f).explanation["jewels"])
    ]


@pytest.mark.xfail(strict=True, reason="RAND security levels are issue 20 (Governance), not yet built")
def test_1_required_security_level() -> None:
    """frontier-weights and nextgen-checkpoints: the required RAND security level is SL5 (an OC5
    profile reaches them); the SL gap names confidential computing (SL4) and an isolated training
    network (SL5); variant no-oc5 lowers the required level to SL4."""
    from threats.engine.security_levels import assess  # type: ignore[import-not-found]  # noqa: PLC0415

    from tests.scenarios.harness import library  # noqa: PLC0415
    from tests.scenarios.loader import build  # noqa: PLC0415

    def levels(variant: str | None) -> dict:  # type: ignore[type-arg]
        scenario = build(raw(NAME), variant)
        views = scenario.views(library())
        return assess(scenario.snapshot, library(), scenario.attackers, views["current"], names=scenario.asset_id)

    base = levels(None)
    for jewel in (WEIGHTS, CKPT):
        assert base[jewel].required == 5
        assert {"M-CONF-COMPUTE", "M-ISOLATED-NETWORK"} <= set(base[jewel].missing)
    assert levels("no-oc5")[CKPT].required == 4


def test_2_distillation_is_priced_from_the_replication_value() -> None:
    """chat-api: a distillation finding exists, realised by the Distillation lab among others,
    and its loss per event comes from frontier-weights' replication_value (likely 1e8), not its
    value (1e9); every finding that puts a copy of frontier-weights in an attacker's hands has a
    larger loss per event than this distillation finding."""
    r = run(NAME)
    distil = r.open("T-DISTILL-LLM", "chat-api")
    assert distil is not None
    assert r.share(distil, "Distillation lab") > 0
    assert distil.magnitude.likely == pytest.approx(1e8, rel=1e-6)
    takers = _full_takers(r, WEIGHTS)
    assert takers
    for f in takers:
        assert f.magnitude.likely > distil.magnitude.likely, f.key


def test_3_logit_algebra_needs_logprobs() -> None:
    """chat-api (text only) has no logit-algebra finding; eval-api (logprobs, no rate limit, no
    logging) has one, and its loss per event is below the most-likely value of the models it
    serves. Variant chat-logprobs makes the logit-algebra finding appear on chat-api."""
    r = run(NAME)
    assert r.open("T-LOGIT-ALGEBRA", "chat-api") is None
    f = r.open("T-LOGIT-ALGEBRA", "eval-api")
    assert f is not None
    assert f.magnitude.likely < min(8e8, 1e9)
    assert run(NAME, "chat-logprobs").open("T-LOGIT-ALGEBRA", "chat-api") is not None


def test_4_quota_lengthens_the_extraction_budget() -> None:
    """chat-api: the Distillation lab's extraction budget is finite despite per-key quotas, and
    variant chat-no-quota raises the distillation finding's current annual loss; the variant must
    neither remove the finding nor leave its risk unchanged."""
    r = run(NAME)
    budget = r.budgets("T-DISTILL-LLM", "chat-api")["Distillation lab"]
    assert 0 < budget.days_to_extract < float("inf")
    base = r.open("T-DISTILL-LLM", "chat-api")
    free = run(NAME, "chat-no-quota").open("T-DISTILL-LLM", "chat-api")
    assert base is not None and free is not None
    assert free.views["current"].loss > base.views["current"].loss


def test_5_insider_uses_authorised_access() -> None:
    """Malicious researcher: the most probable path to nextgen-checkpoints starts researchers ->
    research-workstations and reaches it through one or two research-zone assets with probability
    at least 0.5; the insider-exfiltration finding on nextgen-checkpoints is realised only by the
    insider and contractor profiles: external profiles contribute 0 to its frequency."""
    r = run(NAME)
    path, probability = r.path("Malicious researcher", CKPT)
    assert path[:2] == ["researchers", "research-workstations"] and path[-1] == CKPT, path
    middle = path[2:-1]
    assert 1 <= len(middle) <= 2 and set(middle) <= RESEARCH, path
    assert probability >= 0.5
    ckpt = r.scenario.asset_id[CKPT]
    exfil = [
        f
        for f in r.findings("T-INSIDER-EXFIL")
        if any(j["jewel_id"] == ckpt for j in r.current(f).explanation["jewels"]) and r.current(f).frequency > 0
    ]
    assert exfil
    allowed = {"Malicious researcher", "Rogue contractor"}
    assert all(r.realised_by(f) <= allowed for f in exfil)
    assert any("Malicious researcher" in r.realised_by(f) for f in exfil)


def test_6_the_dr_copy_is_the_weak_one() -> None:
    """nextgen-checkpoints is stored on ckpt-store and dr-backup: a less-secure-copy finding targets
    the dr-backup copy. Variant no-dr-copy removes that finding and lowers nextgen-checkpoints'
    theft risk, while frontier-weights' theft risk stays within 1% of the baseline."""
    base, gone = run(NAME), run(NAME, "no-dr-copy")
    assert base.open("T-SHADOW-COPY", "dr-backup") is not None
    assert not any(
        f.target_type == "asset" and gone.scenario.asset_name.get(f.target_id) == "dr-backup"
        for f in gone.findings("T-SHADOW-COPY")
    )
    assert gone.jewel(CKPT) < base.jewel(CKPT)
    assert abs(gone.jewel(WEIGHTS) - base.jewel(WEIGHTS)) <= 0.01 * base.jewel(WEIGHTS)


def test_7_poisoned_extension_publisher_reaches_the_checkpoints() -> None:
    """coding-agent: a poisoned agent-extension / local-agent finding exists with non-zero
    frequency for the Poisoned extension publisher although coding-agent opens every connection to
    extension-registry, and that profile's most probable path to nextgen-checkpoints passes
    through coding-agent and research-workstations."""
    r = run(NAME)
    agent = r.target("coding-agent")
    found = [f for f in r.with_atlas("AML.T0010.005", "AML.T0112.000") if (f.target_type, f.target_id) == agent]
    assert any(r.share(f, "Poisoned extension publisher") > 0 for f in found), [f.key for f in found]
    path, _ = r.path("Poisoned extension publisher", CKPT)
    assert "coding-agent" in path and "research-workstations" in path, path


def test_8_state_avoids_the_hsm() -> None:
    """State intelligence service: its most probable path to nextgen-checkpoints never passes
    kms-hsm, and either ends at the dr-backup copy or passes through research-workstations."""
    path, _ = run(NAME).path("State intelligence service", CKPT)
    assert path and "kms-hsm" not in path
    assert path[-2] == "dr-backup" or "research-workstations" in path, path


def test_9_advisor_cuts_the_checkpoint_paths_first() -> None:
    """Advisor at risk_appetite 5e7/yr: the first 3 picks include at least one control that cuts
    the top paths to nextgen-checkpoints (on the dr-backup copy, on the research-workstations /
    coding-agent foothold, or egress limits on the research zone); none of the first 3 is a
    chat-api output or quota control or M-PHYSICAL-SECURITY."""
    advice, names = advice_for(NAME, 5e7)
    first = [s.action for s in advice.steps[:3]]
    assert first
    foothold = {names[n] for n in ("dr-backup", "research-workstations", "coding-agent", "researchers")}
    cuts = [
        a
        for a in first
        if a.control in ("M-EGRESS-CONTROL", "M-SUPPLY-CHAIN-GOV", "M-AGENT-LEAST-PRIV", "M-PHISHRES-MFA")
        or set(a.element_ids) & foothold
        or a.holder_id in foothold
    ]
    assert cuts, [a.label for a in first]
    chat = names["chat-api"]
    for a in first:
        assert not (
            a.control in ("M-OUTPUT-MINIMIZE", "M-API-WATERMARK", "M-RATE-QUOTA")
            and (a.coverage is None or chat in a.element_ids)
        )
        assert a.control != "M-PHYSICAL-SECURITY"


@pytest.mark.parametrize("code", ["T-COST-HARVEST", "T-APIKEY-ABUSE"])
def test_10_cost_harvesting_is_priced_as_compute(code: str) -> None:
    """chat-api: cost-harvesting and API-key-abuse findings are priced as compute cost: loss per
    event at most 30 x compute_cost_per_day max (3e7), never frontier-weights' value."""
    r = run(NAME)
    f = r.open(code, "chat-api")
    assert f is not None and f.form == "compute"
    assert f.magnitude.likely <= 3e7 and r.magnitude_mean(f) <= 3e7
    assert not r.current(f).explanation["jewels"]


def test_11_bounds() -> None:
    """Bounds: frontier-weights' theft never exceeds its PERT mean (1.22e9), nextgen-checkpoints'
    never 1.07e9; the system's current annual loss is at most the two PERT means plus 365 x
    chat-api compute_cost_per_day max (about 2.65e9 in all)."""
    r = run(NAME)
    assert r.jewel(WEIGHTS) <= 1.22e9
    assert r.jewel(CKPT) <= 1.07e9
    assert r.system() <= 2.65e9
    assert r.result.system["current"].mean <= 2.65e9


def test_12_controls_never_move_inherent_and_never_raise_current() -> None:
    """Invariant: in variant workstation-controls every finding's inherent risk equals the
    baseline's, no finding's current risk rises, and the system's current annual loss falls."""
    base, controlled = run(NAME), run(NAME, "workstation-controls")
    assert base.result.findings.keys() == controlled.result.findings.keys()
    for key, f in base.result.findings.items():
        g = controlled.result.findings[key]
        assert g.views["inherent"].loss == f.views["inherent"].loss, key
        assert g.views["current"].loss <= f.views["current"].loss * (1 + 1e-12), key
    assert controlled.system() < base.system()


def test_scenario_has_the_lines_tested_here() -> None:
    """The file has 12 expectations; a new line needs a new test."""
    assert len(raw(NAME)["expect"]) == 12
