"""API v1 batch writes of the diagram editor, and its layout saves.

``POST /systems/{slug}/batch/`` applies a list of create / update / delete operations on zones,
assets and flows in one transaction, each through the element services (so each is validated,
audited and bumps the version exactly as a single API call would). The editor collects a user's
edits and sends them together; either all apply or none does.

The guard is the *system* version, not each element's ETag: the editor shows the whole diagram,
so any change by someone else since it was loaded may make the user's edit wrong (a deleted
target, a renamed zone). ``If-Match: "v<version>"`` is required; a stale one answers 412 with the
current version in the body, and the editor then offers to reload or to re-apply the user's
pending operations onto the new version. Newly created elements can be referred to by later
operations of the same batch through a client ``ref`` (a string in place of an id).

``PUT /systems/{slug}/layout/`` stores positions only: no version bump, no audit event.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workbench.api.base import SLUG_PARAMETER, SystemScopedMixin
from workbench.api.errors import ErrorSerializer, _django_validation_errors
from workbench.api.etags import version_etag
from workbench.api.inputs import AssetInputSerializer, DataFlowInputSerializer, TrustZoneInputSerializer
from workbench.models import Asset, DataFlow, System, TrustZone
from workbench.permissions import TeamCapability
from workbench.services import elements as services
from workbench.services.layout import positions_save
from workbench.services.limits import SystemLimitExceeded

ELEMENT_KINDS = ("asset", "flow", "zone")
MAX_OPERATIONS = 500
MAX_POSITIONS = 5000
REF_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}\Z")
# Fields whose value names another element and may therefore be a ref of this batch.
REFERENCE_FIELDS = {"zone": ("zone",), "asset": ("zone", "hosted_on"), "flow": ("source", "target")}
KINDS: dict[str, tuple[type[models.Model], type[serializers.ModelSerializer[Any]]]] = {
    "zone": (TrustZone, TrustZoneInputSerializer),
    "asset": (Asset, AssetInputSerializer),
    "flow": (DataFlow, DataFlowInputSerializer),
}


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = 'Send If-Match with the system version you edited (for example "v12").'
    default_code = "precondition_required"


class OperationSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=["create", "update", "delete"])
    kind = serializers.ChoiceField(choices=ELEMENT_KINDS)
    id = serializers.IntegerField(required=False, min_value=1, help_text="The element, for update and delete.")
    ref = serializers.RegexField(
        REF_PATTERN, required=False, help_text="For create: a name later operations may use instead of the id."
    )
    data = serializers.DictField(  # type: ignore[assignment]  # a declared field; DRF keeps .data the property
        required=False, help_text="The element's fields, as for its own endpoint."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["op"] == "create" and "id" in attrs:
            raise serializers.ValidationError({"id": ["A create names no id."]})
        if attrs["op"] != "create" and "id" not in attrs:
            raise serializers.ValidationError({"id": ["Update and delete need the element id."]})
        if attrs["op"] != "create" and "ref" in attrs:
            raise serializers.ValidationError({"ref": ["Only a create can define a ref."]})
        if attrs["op"] == "delete" and attrs.get("data"):
            raise serializers.ValidationError({"data": ["A delete takes no data."]})
        return attrs


class PositionSerializer(serializers.Serializer):
    asset = serializers.CharField(max_length=40, help_text="An asset id, or a ref created in the same batch.")
    x = serializers.FloatField()
    y = serializers.FloatField()


class BatchSerializer(serializers.Serializer):
    operations = serializers.ListField(child=OperationSerializer(), max_length=MAX_OPERATIONS)
    positions = serializers.ListField(child=PositionSerializer(), max_length=MAX_POSITIONS, required=False)


class LayoutSerializer(serializers.Serializer):
    positions = serializers.ListField(child=PositionSerializer(), max_length=MAX_POSITIONS)


BATCH_RESULT = inline_serializer(
    "BatchResult",
    {
        "version": serializers.IntegerField(),
        "results": serializers.ListField(child=serializers.DictField()),
        "refs": serializers.DictField(child=serializers.IntegerField()),
    },
)
STALE = inline_serializer(
    "StaleVersion",
    {"detail": serializers.CharField(), "code": serializers.CharField(), "version": serializers.IntegerField()},
)


def _prefixed(prefix: str, errors: Any) -> dict[str, Any]:
    if isinstance(errors, dict):
        return {f"{prefix}.{key}": value for key, value in errors.items()}
    return {prefix: errors}


def _resolve(value: Any, refs: dict[str, int], where: str) -> Any:
    """A ref string becomes the id it was given earlier in this batch; ids pass through."""
    if isinstance(value, str) and REF_PATTERN.match(value):
        if value not in refs:
            raise ValidationError({where: [f"Unknown ref {value!r}: create it earlier in the batch."]})
        return refs[value]
    return value


def _save(kind: str, *, actor: Any, system: System, instance: Any, data: dict[str, Any]) -> Any:
    if kind == "zone":
        return services.zone_save(actor=actor, system=system, zone=instance, **data)
    if kind == "asset":
        return services.asset_save(actor=actor, system=system, asset=instance, **data)
    return services.flow_save(actor=actor, system=system, flow=instance, **data)


def _delete(kind: str, *, actor: Any, instance: Any) -> None:
    if kind == "zone":
        services.zone_delete(actor=actor, zone=instance)
    elif kind == "asset":
        services.asset_delete(actor=actor, asset=instance)
    else:
        services.flow_delete(actor=actor, flow=instance)


def _positions(items: list[dict[str, Any]], refs: dict[str, int]) -> dict[int, tuple[float, float]]:
    out: dict[int, tuple[float, float]] = {}
    for index, item in enumerate(items):
        raw = _resolve(item["asset"], refs, f"positions.{index}.asset")
        try:
            out[int(raw)] = (item["x"], item["y"])
        except ValueError:
            raise ValidationError({f"positions.{index}.asset": ["An asset id or a ref."]}) from None
    return out


class SystemBatchView(SystemScopedMixin, APIView):  # type: ignore[misc]  # DRF narrows View.request to Request
    """Apply the editor's pending operations atomically, guarded by the system version."""

    @extend_schema(
        summary="Apply several zone/asset/flow changes at once (If-Match on the system version)",
        parameters=[SLUG_PARAMETER],
        request=BatchSerializer,
        responses={
            200: BATCH_RESULT,
            400: ErrorSerializer,
            412: OpenApiResponse(STALE, description="The system changed; the body names its version."),
            428: ErrorSerializer,
        },
        tags=["editor"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        system = self.get_system()
        system.capabilities.require(TeamCapability.EDIT_MODEL)
        header = request.headers.get("If-Match")
        if header is None:
            raise PreconditionRequired
        body = BatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            # The system row only, and NO KEY: rows that merely reference it (audit events, plan
            # comments) can still be written meanwhile; locking the team too deadlocked those (issue 13).
            locked = (
                System.objects.select_for_update(no_key=True, of=("self",)).select_related("team").get(pk=system.pk)
            )
            current = version_etag(locked.version)
            if current not in {tag.strip() for tag in header.split(",")}:
                return self._stale(locked)
            results, refs = self._apply(request, locked, body.validated_data["operations"])
            positions = _positions(body.validated_data.get("positions", []), refs)
            self._wrap(lambda: positions_save(actor=request.user, system=locked, positions=positions), "positions")
            # Deletes bump the version through the element's own system object: read it back.
            locked.version = System.objects.values_list("version", flat=True).get(pk=locked.pk)
        response = Response({"version": locked.version, "results": results, "refs": refs})
        response["ETag"] = version_etag(locked.version)
        return response

    @staticmethod
    def _stale(system: System) -> Response:
        response = Response(
            {
                "detail": "Someone else changed this system since you loaded it.",
                "code": "precondition_failed",
                "version": system.version,
            },
            status=status.HTTP_412_PRECONDITION_FAILED,
        )
        response["ETag"] = version_etag(system.version)
        return response

    @staticmethod
    def _wrap(call: Any, prefix: str) -> Any:
        """Run a service call; its ValidationError names the operation that failed.

        A system size limit stays what it is (422 ``system_too_large``, ``workbench.api.errors``).
        """
        try:
            return call()
        except SystemLimitExceeded:
            raise
        except DjangoValidationError as exc:
            raise ValidationError(_prefixed(prefix, _django_validation_errors(exc))) from exc

    def _apply(
        self, request: Request, system: System, operations: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        refs: dict[str, int] = {}
        results: list[dict[str, Any]] = []
        for index, operation in enumerate(operations):
            where = f"operations.{index}"
            kind, op = operation["kind"], operation["op"]
            model, input_class = KINDS[kind]
            instance = None
            if op != "create":
                instance = model._default_manager.select_for_update().filter(system=system, pk=operation["id"]).first()
                if instance is None:
                    raise ValidationError({f"{where}.id": [f"No such {kind} in this system (deleted meanwhile?)."]})
            if op == "delete":
                self._wrap(
                    lambda kind=kind, instance=instance: _delete(kind, actor=request.user, instance=instance), where
                )
                results.append({"index": index, "op": op, "kind": kind, "id": operation["id"]})
                continue
            data = dict(operation.get("data") or {})
            for field in REFERENCE_FIELDS[kind]:
                if field in data:
                    data[field] = _resolve(data[field], refs, f"{where}.data.{field}")
            if kind == "flow" and isinstance(data.get("carries"), list):
                data["carries"] = [_resolve(v, refs, f"{where}.data.carries") for v in data["carries"]]
            serializer = input_class(
                instance, data=data, partial=op == "update", context={"system": system, "request": request}
            )
            if not serializer.is_valid():
                raise ValidationError(_prefixed(f"{where}.data", serializer.errors))
            saved = self._wrap(
                lambda kind=kind, instance=instance, values=dict(serializer.validated_data): _save(
                    kind, actor=request.user, system=system, instance=instance, data=values
                ),
                f"{where}.data",
            )
            if operation.get("ref"):
                if operation["ref"] in refs:
                    raise ValidationError({f"{where}.ref": ["This ref is already used in the batch."]})
                refs[operation["ref"]] = saved.pk
            results.append({"index": index, "op": op, "kind": kind, "id": saved.pk, "ref": operation.get("ref")})
        return results, refs


class SystemLayoutView(SystemScopedMixin, APIView):  # type: ignore[misc]  # DRF narrows View.request to Request
    """Save where assets are drawn; never bumps the version nor writes an audit event."""

    @extend_schema(
        summary="Save diagram positions (no version bump, no audit event)",
        parameters=[SLUG_PARAMETER],
        request=LayoutSerializer,
        responses={200: inline_serializer("LayoutSaved", {"saved": serializers.IntegerField()}), 400: ErrorSerializer},
        tags=["editor"],
    )
    def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        system = self.get_system()
        system.capabilities.require(TeamCapability.EDIT_MODEL)
        body = LayoutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        positions = _positions(body.validated_data["positions"], {})
        saved = SystemBatchView._wrap(
            lambda: positions_save(actor=request.user, system=system, positions=positions), "positions"
        )
        return Response({"saved": saved})
