"""Names refuse control and text-direction characters (issue 13, point 8) on every way in: the
services (so the API and the batch editor), the forms, and inventory sync; letters of every
script, and the joiners some scripts need, stay allowed."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import UserFactory
from tests.workbench.inventory_sync_support import asset, flow, post_sync
from workbench.models import Asset, System, Team, TrustZone
from workbench.services.elements import asset_save, attacker_save, flow_save, zone_save
from workbench.services.systems import system_create, system_update
from workbench.services.teams import team_create
from workbench.validators import validate_plain_name

pytestmark = pytest.mark.django_db

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "invoice\u202egpj.exe" reads "invoiceexe.jpg"
REFUSED = [
    "\x00",
    "\x1b",
    "\x1f",
    "\n",
    "\t",
    "\x7f",
    "\x85",
    "\x9f",
    "\u200b",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    RLO,
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u2028",
    "\u2029",
    "\u00ad",
    "\ufeff",
    "\ue000",
]
ALLOWED = [
    "Inference gateway",
    "Zürich model store",
    "東京 推論クラスタ",
    "Хранилище весов",
    "مخزن النماذج",
    "मॉडल भंडार",
    "می\u200cخواهم",  # Persian needs the zero-width non-joiner
    "👩\u200d💻 research",  # emoji sequences need the zero-width joiner
    "Weights\u00a0v2",  # no-break space
    'Quotes "and" <brackets> & 100%',
]


@pytest.mark.parametrize("char", REFUSED, ids=lambda c: f"U+{ord(c):04X}")
def test_the_validator_refuses_control_and_direction_characters(char):
    with pytest.raises(ValidationError) as info:
        validate_plain_name(f"model{char}weights")

    assert f"U+{ord(char):04X}" in info.value.messages[0]


@pytest.mark.parametrize("name", ALLOWED)
def test_the_validator_keeps_ordinary_letters_of_every_script(name):
    validate_plain_name(name)


def test_every_named_model_runs_the_validator():
    models = [Team, System, TrustZone, Asset]
    from workbench.models import AttackerProfile, DataFlow

    for model in (*models, DataFlow, AttackerProfile):
        assert validate_plain_name in model._meta.get_field("name").validators, model.__name__


def test_services_refuse_a_bad_name_and_write_nothing(owner, elements, nothing_written):
    system = elements.system
    writes = [
        lambda: team_create(name=f"Team{RLO}", creator=UserFactory()),
        lambda: system_create(actor=owner, team=system.team, name=f"New{RLO}"),
        lambda: system_update(actor=owner, system=system, name=f"Renamed{RLO}"),
        lambda: zone_save(actor=owner, system=system, name=f"Zone{RLO}"),
        lambda: asset_save(actor=owner, system=system, name=f"Asset{RLO}", kind="gpu_host"),
        lambda: asset_save(actor=owner, system=system, asset=elements.asset, name=f"Asset{RLO}"),
        lambda: flow_save(
            actor=owner, system=system, name=f"Flow{RLO}", source=elements.asset, target=elements.other_asset
        ),
        lambda: attacker_save(actor=owner, system=system, name=f"Attacker{RLO}"),
    ]
    for write in writes:
        with nothing_written(system), pytest.raises(ValidationError) as info:
            write()
        assert "name" in info.value.message_dict


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("zones", {"trust_level": 1}),
        ("assets", {"kind": "gpu_host"}),
        ("flows", None),
        ("attackers", {"capability": "OC2"}),
    ],
)
def test_the_api_answers_400_naming_the_field(api_client, editor, elements, nothing_written, kind, body):
    api_client.force_login(editor)
    body = body if body is not None else {"source": elements.asset.pk, "target": elements.other_asset.pk}
    url = f"/api/v1/systems/{elements.system.slug}/{kind}/"

    with nothing_written(elements.system):
        response = api_client.post(url, {"name": f"evil{RLO}gpj.exe", **body}, format="json")

    assert response.status_code == 400, response.json()
    assert "U+202E" in response.json()["errors"]["name"][0]


def test_the_api_refuses_a_bad_system_name(api_client, editor, elements, nothing_written):
    api_client.force_login(editor)
    url = reverse("system-list", kwargs={"version": "v1"})

    with nothing_written():
        response = api_client.post(url, {"team": "acme", "name": "Pay\u2066ments"}, format="json")
    with nothing_written(elements.system):
        renamed = api_client.patch(f"{url}{elements.system.slug}/", {"name": "Pay\x1bments"}, format="json")

    assert response.status_code == 400, response.json()
    assert "name" in response.json()["errors"]
    assert renamed.status_code == 400, renamed.json()
    assert "name" in renamed.json()["errors"]


def test_the_forms_show_the_error_and_write_nothing(client, editor, elements, nothing_written):
    client.force_login(editor)
    system = elements.system

    with nothing_written(system):
        new_system = client.post(reverse("workbench:system_new"), {"team": system.team.pk, "name": f"S{RLO}"})
        new_zone = client.post(
            reverse("workbench:element_new", kwargs={"slug": system.slug, "kind": "zones"}),
            {"name": f"Z{RLO}", "trust_level": 2},
        )

    for response in (new_system, new_zone):
        assert response.status_code == 400
        assert "U+202E" in str(response.context["form"].errors["name"])


@pytest.mark.parametrize(
    ("section", "item"),
    [
        ("assets", asset("a1", name=f"invoice{RLO}gpj.exe")),
        ("assets", asset("a1", name="line\u2028break")),
        ("flows", flow("a0", "s", name="pull\u2067weights")),
    ],
    ids=["asset-rlo", "asset-line-separator", "flow-isolate"],
)
def test_sync_refuses_a_bad_name_and_writes_nothing(api_client, editor, system, nothing_written, section, item):
    api_client.force_login(editor)
    payload: dict[str, Any] = {"source": "cmdb", "assets": [asset("a0"), asset("s")]}
    payload[section] = [*payload.get(section, []), item]

    with nothing_written(system):
        response = post_sync(api_client, system, payload)

    assert response.status_code == 422, response.json()
    [error] = response.json()["errors"][section]
    assert list(error["errors"]) == ["name"]
    assert "U+" in error["errors"]["name"][0]


def test_sync_lists_only_the_bad_name_among_names_in_every_script(api_client, editor, system, nothing_written):
    api_client.force_login(editor)
    names = [*ALLOWED, f"weights{RLO}"]
    payload = {"source": "cmdb", "assets": [asset(f"a{i}", name=name) for i, name in enumerate(names)]}

    with nothing_written(system):
        response = post_sync(api_client, system, payload)

    assert response.status_code == 422, response.json()
    assert [error["index"] for error in response.json()["errors"]["assets"]] == [len(ALLOWED)]
