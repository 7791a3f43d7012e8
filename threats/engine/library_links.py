"""Parse a threat's links to the controls that reduce it (``controls:`` in threats.yaml).

Kept apart from ``library_parse`` because a link is where the two files meet: it names a
control of controls.yaml, and a single effectiveness figure is decayed here, per OC level
above the control's RAND level, so the engine reads five ready figures.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from threats.engine.library_defs import CONTROL_SCOPES, ControlDef, LibraryError, ThreatControlDef
from threats.engine.library_fields import Collect, by_level, check_keys, choice, mapping, number, string, typename
from threats.engine.vocab import OC_LEVELS

CONTROL_CODE = re.compile(r"M-[A-Z0-9-]+")


def threat_controls(raw: Any, path: str, controls: Mapping[str, ControlDef]) -> tuple[ThreatControlDef, ...]:
    """A threat's ``controls`` list: each link once, to a control of the catalogue."""
    if not isinstance(raw, list):
        raise LibraryError([f"{path}: must be a list, got {typename(raw)}"])
    c = Collect()
    result: list[ThreatControlDef] = []
    for i, entry in enumerate(raw):
        link = c(lambda entry=entry, i=i: _threat_control(entry, f"{path}[{i}]", controls), None)  # type: ignore[misc]
        if link is not None and any(other.control == link.control for other in result):
            c.add(f"{path}[{i}].control: {link.control!r} is listed twice")
        elif link is not None:
            result.append(link)
    c.raise_any()
    return tuple(result)


def _threat_control(raw: Any, where: str, controls: Mapping[str, ControlDef]) -> ThreatControlDef:
    m = mapping(raw, where)
    check_keys(m, where, ("control", "effectiveness"), ("evidence", "on"))
    c = Collect()
    code = c(lambda: string(m["control"], f"{where}.control", CONTROL_CODE), "")
    control = controls.get(code)
    if code and control is None:
        c.add(f"{where}.control: unknown control {code!r} (not in controls.yaml)")
    effectiveness = c(lambda: _effectiveness(m["effectiveness"], f"{where}.effectiveness", control), (0.0,) * 5)
    on = c(lambda: choice(m.get("on", "any"), f"{where}.on", CONTROL_SCOPES), "any")
    source, figure = c(lambda: _evidence(m["evidence"], f"{where}.evidence"), ("", "")) if "evidence" in m else ("", "")
    c.raise_any()
    return ThreatControlDef(code, effectiveness, source, figure, on)  # type: ignore[arg-type]  # five values


def _effectiveness(raw: Any, path: str, control: ControlDef | None) -> tuple[float, ...]:
    """Per OC level. A number is the reduction up to the control's RAND level, decayed by its
    ``capability_decay`` for each level above; a mapping {OC1..OC5} is taken as given."""
    if isinstance(raw, dict):
        values = by_level(raw, path)
        return tuple(values[level] for level in OC_LEVELS)
    value = number(raw, path, 0.0, 1.0)
    if control is None:
        return (value,) * len(OC_LEVELS)
    decay, level_sl = control.capability_decay, control.rand_sl
    return tuple(value * decay ** max(0, level - level_sl) for level in range(1, len(OC_LEVELS) + 1))


def _evidence(raw: Any, path: str) -> tuple[str, str]:
    evidence = mapping(raw, path)
    check_keys(evidence, path, ("source",), ("figure",))
    source = string(evidence["source"], f"{path}.source")
    return source, string(evidence.get("figure", ""), f"{path}.figure", allow_empty=True)
