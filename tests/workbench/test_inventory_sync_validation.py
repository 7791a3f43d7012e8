"""Hostile sync payloads: one bad item refuses the whole payload, with per-item errors, nothing written."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.workbench.inventory_sync_support import asset, flow, inventory, post_sync, sync_url
from workbench.api import inventory as inventory_api
from workbench.choices import AssetKind, Authentication
from workbench.models import Asset
from workbench.services.inventory import SyncError, inventory_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_client: Any, editor: Any) -> Any:
    api_client.force_login(editor)
    return api_client


@pytest.fixture
def synced(api: Any, system: Any, elements: Any) -> Any:
    """A system holding the cmdb inventory a0..a3 and s (so "nothing changed" means something)."""
    payload = inventory(4)
    payload["assets"].append(asset("s"))
    assert post_sync(api, system, payload).status_code == 200
    return system


NO_ITEM = object()


def _payload_with(asset_item: Any = NO_ITEM, flow_item: Any = NO_ITEM) -> dict[str, Any]:
    """The stored inventory with its first asset renamed (a real change) plus one bad item."""
    payload = inventory(4)
    payload["assets"][0]["name"] = "Would be renamed"
    if asset_item is not NO_ITEM:
        payload["assets"].insert(2, asset_item)
    if flow_item is not NO_ITEM:
        payload["flows"].insert(1, flow_item)
    return payload


BAD_ASSETS = {
    "unknown kind": (asset("n", kind="toaster"), "kind"),
    "kind of the wrong type": (asset("n", kind=["object_store"]), "kind"),
    "duplicate external_id": (asset("a1"), "external_id"),
    "10 kB name": (asset("n", name="x" * 10_000), "name"),
    "blank name": (asset("n", name="   "), "name"),
    "name is a number": (asset("n", name=42), "name"),
    "name is nested junk": (asset("n", name={"$gt": ""}), "name"),
    "criticality as a string": (asset("n", criticality="3"), "criticality"),
    "criticality as a float": (asset("n", criticality=3.0), "criticality"),
    "criticality out of range": (asset("n", criticality=6), "criticality"),
    "boolean as a string": (asset("n", internet_facing="true"), "internet_facing"),
    "boolean as a number": (asset("n", mfa=1), "mfa"),
    "value as a boolean": (asset("n", value_min=True), "value_min"),
    "value in exponent form": (asset("n", value_max="1e5"), "value_max"),
    "value with too many decimals": (asset("n", value_min="1.234"), "value_min"),
    "value too large": (asset("n", value_max=10**20), "value_max"),
    "negative value": (asset("n", value_min=-1), "value_min"),
    "negative size": (asset("n", size_gb=-0.5), "size_gb"),
    "negative rate limit": (asset("n", rate_limited=True, rate_limit_per_minute=-5), "rate_limit_per_minute"),
    "min above max": (asset("n", value_min=10, value_likely=5, value_max=1), "value_likely"),
    "likely above max of the stored row": ({"external_id": "s", "value_likely": 30000}, "value_likely"),
    "rate limit without rate_limited": (asset("n", rate_limit_per_minute=60), "rate_limit_per_minute"),
    "mfa without authentication": (asset("n", mfa=True, authentication="none"), "mfa"),
    "unknown authentication": (asset("n", authentication="kerberos"), "authentication"),
    "tags not a list": (asset("n", tags="pii"), "tags"),
    "tags nested": (asset("n", tags=[["pii"]]), "tags"),
    "too many tags": (asset("n", tags=[f"t{i}" for i in range(33)]), "tags"),
    "description too long": (asset("n", description="d" * 5001), "description"),
    "description nested": (asset("n", description=[{"a": {"b": []}}]), "description"),
    "NUL in a name": (asset("n", name="we\x00ights"), "name"),
    "lone surrogate in a name": (asset("n", name="\ud800"), "name"),
    "unknown key": (asset("n", colour="blue"), "colour"),
    "primary key smuggled in": (asset("n", id=1), "id"),
    "other source smuggled in": (asset("n", source="mlflow"), "source"),
    "team smuggled in": (asset("n", team=2), "team"),
    "external_id missing": ({"name": "No key", "kind": "gpu_host"}, "external_id"),
    "external_id empty": (asset(""), "external_id"),
    "external_id too long": (asset("k" * 201, name="Long key"), "external_id"),
    "external_id padded": (asset(" a9 "), "external_id"),
    "external_id with a newline": (asset("a\n9", name="Asset a9"), "external_id"),
    "external_id a number": (asset(9), "external_id"),
    "unknown zone name": (asset("n", zone="Nowhere"), "zone"),
    "unknown zone id": (asset("n", zone=999_999), "zone"),
    "zone nested": (asset("n", zone={"name": "Corp network"}), "zone"),
    "host unknown": (asset("n", hosted_on="ghost"), "hosted_on"),
    "host is itself": (asset("n", hosted_on="n"), "hosted_on"),
    "kind missing on create": ({"external_id": "n", "name": "No kind"}, "kind"),
    "item is a string": ("a9", "non_field_errors"),
    "item is null": (None, "non_field_errors"),
    "item is a list": ([{"external_id": "n"}], "non_field_errors"),
}


@pytest.mark.parametrize("case", BAD_ASSETS, ids=list(BAD_ASSETS))
def test_one_bad_asset_refuses_the_whole_payload(api, synced, nothing_written, case):
    item, field = BAD_ASSETS[case]

    with nothing_written(synced):
        response = post_sync(api, synced, _payload_with(asset_item=item))

    assert response.status_code == 422, response.json()
    body = response.json()
    assert body["code"] == "invalid_items"
    assert body["detail"].endswith("nothing was written.")
    errors = body["errors"]["assets"]
    assert [entry["index"] for entry in errors] == [2]
    assert errors[0]["status"] == "error"
    assert list(errors[0]["errors"]) == [field]
    assert all(isinstance(message, str) and message for message in errors[0]["errors"][field])
    assert Asset.objects.get(system=synced, external_id="a0").name == "Asset a0"


BAD_FLOWS = {
    "flow to an unknown asset": (flow("a0", "ghost"), "target"),
    "flow from an unknown asset": (flow("ghost", "a0"), "source"),
    "self loop": (flow("a1", "a1"), "target"),
    "carries an unknown asset": (flow("a0", "a3", carries=["ghost"]), "carries"),
    "carries not a list": (flow("a0", "a3", carries="a1"), "carries"),
    "endpoint a number": ({"external_id": "f", "source": 1, "target": "a0"}, "source"),
    "source missing on create": ({"external_id": "f", "target": "a0"}, "source"),
    "no key and no target": ({"source": "a0"}, "external_id"),
    "boolean as a string": (flow("a0", "a3", encrypted="yes"), "encrypted"),
    "protocol too long": (flow("a0", "a3", protocol="p" * 41), "protocol"),
    "unknown key": (flow("a0", "a3", weight=3), "weight"),
    "name nested junk": (flow("a0", "a3", name=[[[]]]), "name"),
    "duplicate external_id": (flow("a0", "a1"), "external_id"),
    "item is a number": (7, "non_field_errors"),
}


@pytest.mark.parametrize("case", BAD_FLOWS, ids=list(BAD_FLOWS))
def test_one_bad_flow_refuses_the_whole_payload(api, synced, nothing_written, case):
    item, field = BAD_FLOWS[case]

    with nothing_written(synced):
        response = post_sync(api, synced, _payload_with(flow_item=item))

    assert response.status_code == 422, response.json()
    errors = response.json()["errors"]
    assert errors["assets"] == []
    assert [entry["index"] for entry in errors["flows"]] == [1]
    assert list(errors["flows"][0]["errors"]) == [field]


def test_every_bad_item_is_listed_not_only_the_first(api, synced, nothing_written):
    payload = _payload_with(asset_item=asset("n", kind="toaster", criticality=9))
    payload["assets"].append(asset("m", name=""))
    payload["flows"].append(flow("a0", "nowhere"))

    with nothing_written(synced):
        body = post_sync(api, synced, payload).json()

    assert body["error_count"] == {"assets": 2, "flows": 1}
    assert body["errors"]["assets"][0]["errors"].keys() == {"kind", "criticality"}
    assert body["errors"]["assets"][1]["index"] == 5
    assert body["detail"] == "3 invalid items; nothing was written."
    assert body["truncated"] is False


BAD_ENVELOPES = {
    "body is a list": ([{"source": "cmdb"}], "non_field_errors"),
    "body is a string": ("cmdb", "non_field_errors"),
    "source missing": ({"assets": []}, "source"),
    "source empty": ({"source": ""}, "source"),
    "source too long": ({"source": "s" * 65}, "source"),
    "source a number": ({"source": 7}, "source"),
    "source nested": ({"source": {"name": "cmdb"}}, "source"),
    "unknown mode": ({"source": "cmdb", "mode": "merge"}, "mode"),
    "mode a list": ({"source": "cmdb", "mode": ["full"]}, "mode"),
    "dry_run a string": ({"source": "cmdb", "dry_run": "false"}, "dry_run"),
    "assets an object": ({"source": "cmdb", "assets": {"a": {}}}, "assets"),
    "flows a string": ({"source": "cmdb", "flows": "a->b"}, "flows"),
    "unknown top-level key": ({"source": "cmdb", "zones": []}, "zones"),
}


@pytest.mark.parametrize("case", BAD_ENVELOPES, ids=list(BAD_ENVELOPES))
def test_a_body_that_is_not_a_sync_request_is_a_400(api, synced, nothing_written, case):
    body, field = BAD_ENVELOPES[case]

    with nothing_written(synced):
        response = post_sync(api, synced, body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"source": "cmdb", "assets": [',
        b'{"source": "cmdb", "assets": [{"external_id": "a", "value_min": NaN}]}',
        b'{"source": "cmdb", "assets": [{"external_id": "a", "value_max": Infinity}]}',
        b'{"source": "\xff\xfe"}',
        b'{"source": "cmdb", "assets": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["truncated", "NaN", "Infinity", "not UTF-8", "nested 100,000 deep"],
)
def test_malformed_json_is_a_400_not_a_500(api, synced, nothing_written, raw):
    with nothing_written(synced):
        response = api.post(sync_url(synced), raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_a_body_over_the_size_limit_is_a_413(api, synced, nothing_written, monkeypatch):
    monkeypatch.setattr(inventory_api, "MAX_BODY_BYTES", 1000)

    with nothing_written(synced):
        response = post_sync(api, synced, inventory(20))

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_a_form_encoded_body_is_refused(api, synced, nothing_written):
    with nothing_written(synced):
        response = api.post(sync_url(synced), {"source": "cmdb"}, format="multipart")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


# --- the sync is never laxer than the model's own validation ----------------------------------

# Each strategy mixes valid and invalid values about evenly, so both outcomes are exercised.
KINDS = st.one_of(st.sampled_from(AssetKind.values), st.sampled_from(["toaster", "", "Model_Weights"]))
MONEY = st.one_of(st.integers(0, 10**6), st.decimals("-1", "1000000", places=2, allow_nan=False))
VALUES = st.one_of(st.tuples(MONEY, MONEY, MONEY).map(lambda t: tuple(sorted(t))), st.tuples(MONEY, MONEY, MONEY))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=KINDS,
    criticality=st.one_of(st.integers(1, 5), st.integers(-1, 7)),
    values=VALUES,
    rate=st.tuples(st.booleans(), st.one_of(st.none(), st.integers(-3, 10**5))),
    auth=st.tuples(st.sampled_from([*Authentication.values, "kerberos"]), st.booleans()),
    name=st.one_of(st.text(min_size=1, max_size=120), st.text(max_size=130)),
)
def test_sync_accepts_an_asset_exactly_when_the_model_would(
    system, editor, kind, criticality, values, rate, auth, name
):
    item = {
        "external_id": "probe",
        "kind": kind,
        "name": name,
        "criticality": criticality,
        "value_min": str(values[0]),
        "value_likely": str(values[1]),
        "value_max": str(values[2]),
        "rate_limited": rate[0],
        "rate_limit_per_minute": rate[1],
        "authentication": auth[0],
        "mfa": auth[1],
    }
    try:
        inventory_sync(actor=editor, system=system, payload={"source": "cmdb", "dry_run": True, "assets": [item]})
        refusal = None
    except SyncError as exc:
        refusal = exc.body()

    model = Asset(
        team=system.team,
        system=system,
        source="cmdb",
        external_id="probe",
        **{k: v for k, v in item.items() if k != "external_id" and not k.startswith("value_")},
        **{k: Decimal(v) for k, v in item.items() if k.startswith("value_")},
    )
    model.name = name.strip()
    try:
        model.full_clean(validate_unique=False, validate_constraints=False)
        model_ok = "\x00" not in name  # PostgreSQL refuses NUL in text; the model does not check it
    except ValidationError:
        model_ok = False
    event(f"accepted={model_ok}")
    assert (refusal is None) == model_ok, refusal


# --- what is stored is what was sent, whatever the text ---------------------------------------

# Text the sync accepts: printable, no NUL, no lone surrogates; quotes, backslashes, braces and
# commas are what the array literals of the PostgreSQL writer must escape.
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\"\\{},' "), min_size=1, max_size=40
).filter(lambda s: s.strip() == s and s.isprintable())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(TEXT, min_size=1, max_size=4, unique=True), tags=st.lists(TEXT, max_size=5), text=TEXT)
def test_synced_text_is_stored_exactly_and_a_resync_changes_nothing(system, editor, names, tags, text):
    items = [
        {"external_id": f"t{i}", "kind": "object_store", "name": name, "description": text, "tags": tags}
        for i, name in enumerate(names)
    ]
    flows = [
        {"source": "t0", "target": f"t{i}", "protocol": text[:40], "description": text} for i in range(1, len(items))
    ]
    payload = {"source": "hyp", "mode": "full", "assets": items, "flows": flows}

    inventory_sync(actor=editor, system=system, payload=payload)  # raises SyncError when refused
    stored = {a.external_id: a for a in Asset.objects.filter(system=system, source="hyp")}
    for item in items:
        row = stored[item["external_id"]]
        assert (row.name, row.description, row.tags) == (item["name"], text, tags)
    for flow_row in system.flows.filter(origin="hyp"):
        assert (flow_row.protocol, flow_row.description) == (text[:40], text)
    again = inventory_sync(actor=editor, system=system, payload=payload)
    assert again.body["changed"] is False, again.body["summary"]
