"""Fixtures shared by the threat-app tests: the seeded library and an exposed LLM endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from threats.services.library import library_seed
from workbench.models import System
from workbench.services.elements import asset_save


@pytest.fixture
def library(db: None) -> None:
    library_seed()


@pytest.fixture
def exposed_llm(system: System, owner: Any, library: None) -> System:
    """Team A's system with an anonymous, internet-facing endpoint ("Chat API") that serves a
    classifier ("Chat model", valued 1M / 3M / 9M) and answers with logits; nothing computed yet.
    (A classifier, so that query extraction is T-EXTRACT-API; an LLM's would be distillation.)"""
    internet = system.zones.get(trust_level=0)
    model = asset_save(
        actor=owner,
        system=system,
        name="Chat model",
        kind="model_weights",
        value_min=1_000_000,
        value_likely=3_000_000,
        value_max=9_000_000,
    )
    asset_save(
        actor=owner,
        system=system,
        name="Chat API",
        kind="inference_endpoint",
        zone=internet,
        internet_facing=True,
        authentication="none",
        model_class="classifier",
        output_granularity="logits",
        serves=[model],
    )
    system.refresh_from_db()
    return system
