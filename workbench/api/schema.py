"""OpenAPI generation: every operation documents the error answers it can give.

Clients (and schemathesis, which checks that every status code it sees is documented) need the
error responses in the schema, and they all share ``ErrorSerializer``'s shape
(``workbench.api.errors``). Adding them here, once, keeps views free of repeated
``@extend_schema(responses=...)`` boilerplate; an operation's own entry for a code wins.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from workbench.api.errors import ErrorSerializer

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DESCRIPTIONS = {
    "400": "Invalid input; `errors` names the fields.",
    "401": "No valid credentials (send `Authorization: Bearer <token>` or a session cookie).",
    "403": "Your role, your token (read-only) or a missing CSRF token does not allow this.",
    "404": "No such object in your teams (another team's object looks the same).",
    "405": "Method not allowed on this resource.",
    "406": "The Accept header asks for a format this API does not produce.",
    "409": "Conflicts with the current state or with a concurrent change.",
    "412": "`If-Match` does not match the current ETag: read again, then retry.",
    "415": "Unsupported body media type (send JSON).",
    "429": "Too many requests for this token or user; see `Retry-After`.",
}


class WorkbenchAutoSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "406"]
        if "{" in self.path:
            codes.append("404")
        codes.append("405")
        if self.method in WRITE_METHODS:
            codes += ["409", "415"]
        if self.method in {"PUT", "PATCH", "DELETE"} and getattr(self.view, "etag_enabled", False):
            codes.append("412")
        codes.append("429")
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                error = OpenApiResponse(ErrorSerializer, description=DESCRIPTIONS[code])
                responses[code] = self._get_response_for_code(error, code, direction=direction)
        return responses


class TeamTokenScheme(OpenApiAuthenticationExtension):
    """Documents ``Authorization: Bearer mtw_...`` (``workbench.api.authentication``) as a security scheme."""

    target_class = "workbench.api.authentication.TeamTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (`mtw_...`) made on the API tokens page; scoped to one team.",
        }


class StrictInputScheme(OpenApiSerializerExtension):
    """Input bodies refuse unknown keys (``workbench.api.inputs.StrictInput``): say so in the schema."""

    target_class = "workbench.api.inputs.StrictInput"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["additionalProperties"] = False
        return schema


# Integer bounds that come from the database column size rather than from the API: Django puts
# them on every model integer field, and they differ by backend (SQLite reports 64-bit limits for
# every integer column, PostgreSQL 16-, 32- or 64-bit ones). Left in, they would make the
# committed schema depend on the database it was generated on.
STORAGE_BOUNDS = frozenset({-(2**63), 2**63 - 1, -(2**31), 2**31 - 1, -(2**15), 2**15 - 1})


def drop_storage_bounds(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """spectacular postprocessing hook: remove column-size bounds (and the int64 format they imply)."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "integer":
                dropped = False
                for key in ("maximum", "minimum"):
                    if node.get(key) in STORAGE_BOUNDS:
                        del node[key]
                        dropped = True
                if dropped and node.get("format") == "int64":
                    del node["format"]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(result)
    return result
