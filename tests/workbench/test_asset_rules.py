"""The asset cross-field rules: one pure function, and its four callers refuse alike.

``asset_field_problems`` (``workbench.models.rules``) is run by ``Asset.clean``, the asset form,
the API's input serializer and inventory sync; the last tests post the same bad combination to
each and expect the same field and message. Left out on purpose: a data asset with a host,
which the form and the sync word for their own remedy and the API reads as a stored copy.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from workbench.api.inputs import AssetInputSerializer
from workbench.choices import AssetKind, Authentication
from workbench.forms import AssetForm
from workbench.models import Asset
from workbench.models.rules import (
    ASSET_RULE_COLUMNS,
    DATA_KIND_VALUES,
    DATA_NOT_HOSTED,
    MFA_NEEDS_AUTHENTICATION,
    RATE_LIMIT_NEEDS_FLAG,
    VALUES_ORDERED,
    asset_field_problems,
)
from workbench.services.inventory import SyncError, inventory_sync

MONEY = st.one_of(st.none(), st.integers(0, 10**6), st.decimals("0", "1000000", places=2, allow_nan=False))
KINDS = st.sampled_from([*AssetKind.values, "", "toaster"])
# Every field a problem may be shown on: the rule columns by field name.
FIELDS = {"hosted_on" if name == "hosted_on_id" else name for name in ASSET_RULE_COLUMNS}


def rule_values() -> st.SearchStrategy[dict[str, Any]]:
    """Any mix of the rule columns, each possibly missing or None."""
    column = {
        "kind": KINDS,
        "hosted_on_id": st.one_of(st.none(), st.integers(1, 9)),
        "rate_limited": st.booleans(),
        "rate_limit_per_minute": st.one_of(st.none(), st.integers(0, 10**5)),
        "mfa": st.booleans(),
        "authentication": st.sampled_from(Authentication.values),
    }
    strategies = {name: column.get(name, MONEY) for name in ASSET_RULE_COLUMNS}
    return st.fixed_dictionaries({}, optional=strategies)


# --- the function ---------------------------------------------------------------------------


@given(values=rule_values())
def test_any_mix_of_given_and_missing_values_gets_an_answer_on_known_fields(values):
    before = dict(values)
    problems = asset_field_problems(values)
    assert set(problems) <= FIELDS
    assert all(isinstance(message, str) and message for message in problems.values())
    assert values == before and asset_field_problems(values) == problems  # pure: no mutation, same answer


@given(low=MONEY, likely=MONEY, high=MONEY)
def test_values_are_refused_exactly_when_all_given_and_out_of_order(low, likely, high):
    problems = asset_field_problems({"value_min": low, "value_likely": likely, "value_max": high})
    given_all = None not in (low, likely, high)
    assert ("value_likely" in problems) == (given_all and not low <= likely <= high)


@given(flag=st.booleans(), per_minute=st.one_of(st.none(), st.integers(0, 10**5)))
def test_a_rate_limit_needs_the_rate_limited_flag(flag, per_minute):
    problems = asset_field_problems({"rate_limited": flag, "rate_limit_per_minute": per_minute})
    assert ("rate_limit_per_minute" in problems) == (per_minute is not None and not flag)


@given(mfa=st.booleans(), authentication=st.sampled_from(Authentication.values))
def test_mfa_needs_an_authentication_method(mfa, authentication):
    problems = asset_field_problems({"mfa": mfa, "authentication": authentication})
    assert ("mfa" in problems) == (mfa and authentication == Authentication.NONE)


@given(kind=KINDS, host=st.one_of(st.none(), st.integers(1, 9)))
def test_only_a_data_asset_with_a_host_is_refused_for_its_host(kind, host):
    problems = asset_field_problems({"kind": kind, "hosted_on_id": host})
    data = kind in DATA_KIND_VALUES
    if data and host is not None:
        assert problems == {"hosted_on": DATA_NOT_HOSTED}
    elif not data:
        assert "hosted_on" not in problems


def triple(prefix: str, low: int, likely: int, high: int | None) -> dict[str, Any]:
    """``{prefix_min, prefix_likely, prefix_max}``; ``high`` None leaves the maximum out."""
    values = {f"{prefix}_min": low, f"{prefix}_likely": likely}
    return values if high is None else {**values, f"{prefix}_max": high}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "object_store", **triple("replication_value", 1, 2, 3)}, "replication_value_min"),
        ({"kind": "model_weights", **triple("replication_value", 1, 2, None)}, "replication_value_max"),
        (
            {"kind": "model_weights", **triple("value", 0, 1, 2), **triple("replication_value", 0, 1, 5)},
            "replication_value_max",
        ),
        ({"kind": "gpu_host", **triple("compute_cost", 1, 2, 3)}, "compute_cost_min"),
        ({"kind": "inference_endpoint", **triple("compute_cost", 3, 2, 1)}, "compute_cost_likely"),
    ],
)
def test_money_figures_follow_the_kind_and_stay_in_order(values, field):
    assert field in asset_field_problems(values)


def test_a_valid_asset_has_no_problem():
    values = {"kind": "inference_endpoint", "value_min": 1, "value_likely": 2, "value_max": 3, "rate_limited": True}
    values |= {"rate_limit_per_minute": 60, "mfa": True, "authentication": "sso", "compute_cost_min": 1}
    values |= {"compute_cost_likely": 1, "compute_cost_max": 1}
    assert asset_field_problems(values) == {}


# --- its four callers -------------------------------------------------------------------------

REPLICATION_ON_A_STORE = "Only models (weights, checkpoints, adapters) have a replication value."
BAD_COMBINATIONS = [
    pytest.param({"value_min": 500, "value_likely": 10, "value_max": 100}, "value_likely", VALUES_ORDERED, id="order"),
    pytest.param({"rate_limit_per_minute": 60}, "rate_limit_per_minute", RATE_LIMIT_NEEDS_FLAG, id="rate"),
    pytest.param({"authentication": "none", "mfa": True}, "mfa", MFA_NEEDS_AUTHENTICATION, id="mfa"),
    pytest.param(
        {"replication_value_min": 0, "replication_value_likely": 0, "replication_value_max": 0},
        "replication_value_min",
        REPLICATION_ON_A_STORE,
        id="replication",
    ),
]
BASE = {"name": "Probe", "kind": "object_store"}  # plain JSON types, as a client sends them


def _model_messages(system: Any, values: dict[str, Any]) -> dict[str, list[str]]:
    money = {key: Decimal(value) for key, value in values.items() if key.startswith(("value_", "replication_"))}
    asset = Asset(team=system.team, system=system, **BASE, **{**values, **money})
    try:
        asset.full_clean(validate_constraints=False)
    except ValidationError as exc:
        return exc.message_dict
    return {}


def _form_messages(elements: Any, form_data: Any, values: dict[str, Any]) -> dict[str, list[str]]:
    data = {**form_data("assets", elements), **BASE}
    for key, value in values.items():
        if value is True:
            data[key] = "on"
        elif value is not False:
            data[key] = str(value)
    form = AssetForm(data=data, system=elements.system)
    return (
        {}
        if form.is_valid()
        else {key: [str(message) for message in messages] for key, messages in form.errors.items()}
    )


def _serializer_messages(system: Any, values: dict[str, Any]) -> dict[str, list[str]]:
    serializer = AssetInputSerializer(data={**BASE, **values}, context={"system": system})
    if serializer.is_valid():
        return {}
    return {key: [str(message) for message in messages] for key, messages in serializer.errors.items()}


def _sync_messages(editor: Any, system: Any, values: dict[str, Any]) -> dict[str, list[str]]:
    item = {"external_id": "probe", **BASE, **values}
    try:
        inventory_sync(actor=editor, system=system, payload={"source": "probe", "dry_run": True, "assets": [item]})
    except SyncError as exc:
        return exc.body()["errors"]["assets"][0]["errors"]
    return {}


@pytest.mark.django_db
@pytest.mark.parametrize(("values", "field", "message"), BAD_COMBINATIONS)
def test_the_model_the_form_the_serializer_and_the_sync_refuse_alike(
    elements, form_data, editor, values, field, message
):
    system = elements.system
    answers = {
        "model": _model_messages(system, values),
        "form": _form_messages(elements, form_data, values),
        "serializer": _serializer_messages(system, values),
        "sync": _sync_messages(editor, system, values),
    }
    for caller, errors in answers.items():
        assert errors.get(field) == [message], (caller, errors)


@pytest.mark.django_db
def test_the_four_callers_accept_the_same_combination_fixed(elements, form_data, editor):
    system = elements.system
    values = {"value_min": 1, "value_likely": 10, "value_max": 100, "rate_limited": True, "rate_limit_per_minute": 60}
    assert _model_messages(system, values) == {}
    assert _form_messages(elements, form_data, values) == {}
    assert _serializer_messages(system, values) == {}
    assert _sync_messages(editor, system, values) == {}
