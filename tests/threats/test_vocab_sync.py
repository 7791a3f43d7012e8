"""The engine's copy of the rule vocabulary must equal the model choices it mirrors.

``threats/engine/vocab.py`` repeats ``workbench.choices`` so that the engine stays free of
Django; this test is what makes the repetition safe.
"""

from __future__ import annotations

from threats.engine import vocab
from workbench import choices


def test_asset_kinds_match() -> None:
    assert frozenset(choices.AssetKind.values) == vocab.ASSET_KINDS


def test_weight_and_data_kinds_match() -> None:
    assert frozenset(str(k) for k in choices.WEIGHT_KINDS) == vocab.WEIGHT_KINDS
    assert frozenset(str(k) for k in choices.DATA_KINDS) == vocab.DATA_KINDS


def test_property_vocabularies_match() -> None:
    assert frozenset(choices.Authentication.values) == vocab.AUTHENTICATIONS
    assert frozenset(choices.OutputGranularity.values) == vocab.OUTPUT_GRANULARITIES
    assert frozenset(choices.ModelClass.values) == vocab.MODEL_CLASSES
    assert frozenset(choices.Personnel.values) == vocab.PERSONNEL
    assert frozenset(choices.Personnel.values) - {choices.Personnel.NONE.value} == vocab.PERSONNEL_TYPES
    assert choices.AssetKind.HUMAN_ROLE.value == vocab.HUMAN_ROLE


def test_capability_levels_match() -> None:
    assert tuple(choices.Capability.values) == vocab.OC_LEVELS


def test_actor_types_and_initiators_match() -> None:
    assert frozenset(choices.ActorType.values) == vocab.ACTOR_TYPES
    assert frozenset(choices.Initiator.values) == vocab.INITIATORS
