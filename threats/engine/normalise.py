"""The system with every control off: the input of the inherent view (DESIGN.md §4.5).

Inherent risk is the same topology (zones, internet exposure, flows, copies, hosting, serving)
with no control in force, including the controls that properties amount to: authentication,
MFA, encryption at rest and in transit, rate limits, monitoring, logging and minimal output.
Rules are matched on this system too, so a technique that authentication rules out today (an
open bucket) still counts inherently, and switching such a property on or off never changes
the inherent figures. A flow's ``authenticated`` stays: it says the initiator holds standing
credentials for the responder, a trust relationship of the design rather than a control.
"""

from __future__ import annotations

from dataclasses import replace

from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot

# The most revealing answer an interface can give; embedding vectors are their own kind.
FULL_OUTPUT = "logits"


def inherent_asset(asset: AssetData) -> AssetData:
    """The asset with its control-like properties at their weakest."""
    granularity = asset.output_granularity
    if granularity not in ("", "embeddings"):
        granularity = FULL_OUTPUT
    return replace(
        asset,
        authentication="none",
        mfa=False,
        encrypted_at_rest=False,
        rate_limited=False,
        rate_limit_per_minute=None,
        monitored=False,
        logging=False,
        output_granularity=granularity,
    )


def inherent_flow(flow: FlowData) -> FlowData:
    return replace(flow, encrypted=False)


def inherent_snapshot(snapshot: SystemSnapshot) -> SystemSnapshot:
    """``snapshot`` with every control-like property off (see the module docstring)."""
    return SystemSnapshot(
        zones=snapshot.zones,
        assets=tuple(inherent_asset(a) for a in snapshot.assets),
        flows=tuple(inherent_flow(f) for f in snapshot.flows),
    )
