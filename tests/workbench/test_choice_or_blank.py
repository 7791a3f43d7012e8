"""``choice_or_blank``: a ``?status=`` filter keeps a known status and drops anything else."""

from __future__ import annotations

from workbench.choices import JobStatus, choice_or_blank


def test_a_known_value_is_kept() -> None:
    assert choice_or_blank("failed", JobStatus) == "failed"


def test_an_unknown_or_differently_cased_value_lists_all() -> None:
    assert [choice_or_blank(value, JobStatus) for value in ("nope", "FAILED", "Failed", "")] == ["", "", "", ""]
