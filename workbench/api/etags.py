"""ETags for API v1 resources and the ``If-Match`` check on updates and deletes.

A system's ETag is its ``version``, which every change to the system or any of its elements
bumps in the same transaction. An element's ETag is a digest of its representation: zones and
attacker profiles have no ``updated_at`` column, and the digest also covers many-to-many sets
(a flow's ``carries``) and rows written by bulk inventory sync, so it changes exactly when what a
client read changes. Tags are strong; ``If-Match: *`` matches any current resource.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from workbench.api.errors import PreconditionFailed

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The ETag you read; the write is refused with 412 if the resource changed since.",
)


def version_etag(version: int) -> str:
    return f'"v{version}"'


def representation_etag(data: Mapping[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def check_if_match(request: Request, current: str) -> None:
    """Raise 412 unless ``If-Match`` is absent, ``*`` or lists the current (strong) ETag."""
    header = request.headers.get("If-Match")
    if header is None:
        return
    tags = {tag.strip() for tag in header.split(",")}
    if "*" in tags or current in tags:
        return
    raise PreconditionFailed
