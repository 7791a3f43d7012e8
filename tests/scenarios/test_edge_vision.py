"""edge-vision: an on-device ID/liveness model (``../shared/scenarios/edge-vision.json``), one
test per ``expect`` line (``edge-vision#n``). The line's text is the test's docstring."""

from __future__ import annotations

from tests.scenarios.advice import advice_for
from tests.scenarios.harness import raw, run

NAME = "edge-vision"
LIVE, NEXT, IMAGES = "liveness-model", "nextgen-model", "training-images"


def _thefts_of(r, jewel: str, at: str) -> list:  # type: ignore[no-untyped-def]
    ident, place = r.scenario.asset_id[jewel], r.target(at)
    return [
        f
        for f in r.result.findings.values()
        if f.role == "theft"
        and (f.target_type, f.target_id) == place
        and any(j["jewel_id"] == ident for j in r.current(f).explanation["jewels"])
    ]


def test_1_unpacking_the_app() -> None:
    """user-devices: an edge-unpacking finding on liveness-model's device copy exists, realised by
    the App reverse engineer with a frequency of at least 1 per year."""
    r = run(NAME)
    f = r.open("T-EDGE-UNPACK", "user-devices")
    assert f is not None
    mine = r.share(f, "App reverse engineer") * r.current(f).frequency
    assert mine >= 1.0


def test_2_one_jewel_counted_once() -> None:
    """Per-jewel bound: the expected annual loss from theft of liveness-model over all its findings,
    copies and profiles never exceeds its PERT mean (2.4e6), although unpacking alone succeeds more
    than once a year."""
    r = run(NAME)
    assert r.jewel(LIVE) <= 2.4e6 * 1.0000001
    unpack = r.open("T-EDGE-UNPACK", "user-devices")
    assert unpack is not None and r.current(unpack).frequency > 1


def test_3_removing_the_ota_copy_changes_little() -> None:
    """Variant no-ota-copy changes liveness-model's theft loss by less than 10% (every device
    already holds the model), and raises no other finding's expected annual loss."""
    base, gone = run(NAME), run(NAME, "no-ota-copy")
    assert abs(base.jewel(LIVE) - gone.jewel(LIVE)) < 0.1 * base.jewel(LIVE)
    for key, f in gone.result.findings.items():
        if key in base.result.findings:
            assert f.views["current"].loss <= base.result.findings[key].views["current"].loss * (1 + 1e-9), key


def test_4_an_embedded_key_protects_little() -> None:
    """Variant edge-encrypted: the T-EDGE-UNPACK finding stays open and keeps at least a third of its
    baseline expected annual loss (the key ships with the app)."""
    base = run(NAME).open("T-EDGE-UNPACK", "user-devices")
    encrypted = run(NAME, "edge-encrypted").open("T-EDGE-UNPACK", "user-devices")
    assert base is not None and encrypted is not None
    assert encrypted.views["current"].loss >= base.views["current"].loss / 3


def test_5_compromise_travels_from_the_package_index_into_ci() -> None:
    """public-pypi -> ci: a dependency-compromise finding exists with non-zero frequency for the
    Malicious package publisher although ci opens the connection, and that profile's most probable
    path to nextgen-model is public-pypi -> ci -> model-registry or licensee-portal -> nextgen-model."""
    r = run(NAME)
    f = r.open("T-DEPENDENCY-COMPROMISE", "public-pypi->ci")
    assert f is not None and r.share(f, "Malicious package publisher") > 0
    path, _ = r.path("Malicious package publisher", NEXT)
    assert path[:2] == ["public-pypi", "ci"] and path[-1] == NEXT, path
    assert path[2:-1] in (["model-registry"], ["licensee-portal"]), path


def test_6_the_unreleased_model_leaks_through_the_pilot_bank() -> None:
    """nextgen-model (never shipped): no edge-unpacking finding targets it and the App reverse
    engineer contributes under 5% of its theft risk; its licensee-leak finding on the
    licensee-portal copy exists and is realised only by the Pilot-bank employee."""
    r = run(NAME)
    nxt = r.scenario.asset_id[NEXT]
    for f in r.findings("T-EDGE-UNPACK"):
        assert all(j["jewel_id"] != nxt or j["rate"] == 0 for j in r.current(f).explanation["jewels"])
    by_profile = r.result.jewels[nxt].views["current"].by_profile
    total = sum(by_profile.values())
    assert total > 0 and by_profile[r.scenario.attacker_id["App reverse engineer"]] < 0.05 * total
    leak = r.open("T-LICENSEE-LEAK", "licensee-portal")
    assert leak is not None and r.realised_by(leak) == {"Pilot-bank employee"}


def test_7_the_labelling_vendors_copy() -> None:
    """training-images: the labeling-platform copy gets a less-secure-copy or exposed-store finding
    and a vendor-staff exfiltration finding realised by the Labelling vendor insider; both are
    priced from training-images' value, and the labeling-platform copy's theft risk ranks above
    the training-store copy's."""
    r = run(NAME)
    weak = [r.open(c, "labeling-platform") for c in ("T-SHADOW-COPY", "T-EXPOSED-STORE")]
    weak = [f for f in weak if f is not None]
    staff = [r.open(c, "labeling-platform") for c in ("T-INSIDER-EXFIL", "T-LICENSEE-LEAK")]
    staff = [f for f in staff if f is not None and "Labelling vendor insider" in r.realised_by(f)]
    assert weak and staff
    for f in (*weak, *staff):
        assert f.magnitude.likely >= 2e6, f.key
    vendor = max((r.loss(f) for f in _thefts_of(r, IMAGES, "labeling-platform")), default=0.0)
    own = max((r.loss(f) for f in _thefts_of(r, IMAGES, "training-store")), default=0.0)
    assert vendor > own


def test_8_advisor_fixes_the_password_only_copies() -> None:
    """Advisor at risk_appetite 4e5/yr: the first 3 picks include at least one authentication
    control on an internet-facing, password-only copy (labeling-platform or licensee-portal), and a
    control on ci that cuts the public-pypi -> ci path is proposed at some step."""
    advice, names = advice_for(NAME, 4e5)
    weak = {names["labeling-platform"], names["licensee-portal"]}
    auth = ("M-PHISHRES-MFA", "M-API-AUTHN", "M-MFA")
    first = [s.action for s in advice.steps[:3]]
    assert any(a.control in auth and set(a.element_ids) & weak for a in first) or any(
        a.change in ("require_mfa", "require_authentication") and a.asset_id in weak for a in first
    ), [a.label for a in first]
    ci = names["ci"]
    assert any(
        s.action.control in ("M-SUPPLY-CHAIN-GOV", "M-SAFE-ARTIFACTS")
        and (s.action.coverage is None or ci in s.action.element_ids)
        for s in advice.steps
    ), [s.action.label for s in advice.steps]


def test_9_advisor_buys_nothing_that_costs_more_than_it_saves() -> None:
    """Advisor cost-benefit: no proposed step costs more per year than the annual loss it removes,
    and M-ISOLATED-NETWORK, M-CONF-COMPUTE and M-PHYSICAL-SECURITY are not proposed."""
    advice, _ = advice_for(NAME, 4e5)
    assert advice.steps
    for step in advice.steps:
        assert step.removed >= step.action.annual_cost, step.action.label
        assert step.action.control not in ("M-ISOLATED-NETWORK", "M-CONF-COMPUTE", "M-PHYSICAL-SECURITY")


def test_10_a_fingerprint_attributes_but_does_not_stop() -> None:
    """Variant fingerprint: every finding's inherent risk is unchanged, and T-EDGE-UNPACK's
    frequency falls by at most 10%."""
    base, marked = run(NAME), run(NAME, "fingerprint")
    for key, f in base.result.findings.items():
        assert marked.result.findings[key].views["inherent"].loss == f.views["inherent"].loss, key
    before = base.open("T-EDGE-UNPACK", "user-devices")
    after = marked.open("T-EDGE-UNPACK", "user-devices")
    assert before is not None and after is not None
    assert after.views["current"].frequency >= 0.9 * before.views["current"].frequency


def test_11_threats_need_their_actor() -> None:
    """Actor binding: T-EDGE-UNPACK is realised only by profiles whose entry includes user-devices,
    T-LICENSEE-LEAK only by supplier profiles, and T-INSIDER-EXFIL only by insider or supplier
    profiles; the Malicious package publisher contributes to none of the three."""
    r = run(NAME)
    attackers = {p["name"]: p for p in raw(NAME)["attackers"]}
    rules = {
        "T-EDGE-UNPACK": lambda p: "user-devices" in p["entry"],
        "T-LICENSEE-LEAK": lambda p: p["actor_type"] == "supplier",
        "T-INSIDER-EXFIL": lambda p: p["actor_type"] in ("insider", "supplier"),
    }
    for code, allowed in rules.items():
        for f in r.findings(code):
            for name in r.realised_by(f):
                assert allowed(attackers[name]), (code, f.key, name)
                assert name != "Malicious package publisher"


def test_12_system_bound() -> None:
    """System bound: the current annual loss is at most the sum of the PERT means of
    liveness-model, nextgen-model and training-images (about 1.0e7)."""
    r = run(NAME)
    means = sum((a["value"][0] + 4 * a["value"][1] + a["value"][2]) / 6 for a in raw(NAME)["assets"] if "value" in a)
    assert r.system() <= means * 1.0000001
