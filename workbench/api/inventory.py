"""API v1 inventory sync: ``POST /systems/{slug}/inventory/sync/`` and the status of a sync Job.

Thin adapters over ``workbench.services.inventory``: the sync returns a result or raises a
``SyncError``, and this view alone turns them into HTTP (``inventory_status``). Refusals use
the API's one error shape, ``{"detail", "code", "errors"?}`` (``workbench.api.errors`` renders
DRF's own; a ``SyncError``'s body is already in that shape, the 422 of invalid items listing
errors per item). Included from ``workbench.api.urls`` (``urlpatterns`` below).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workbench.api.errors import ErrorSerializer, PayloadTooLarge
from workbench.api.inventory_status import sync_status
from workbench.api.permissions import token_team_id
from workbench.api.renderers import FastJSONRenderer
from workbench.choices import JobKind
from workbench.models import Job, System
from workbench.permissions import TeamCapability
from workbench.selectors import system_get
from workbench.services.inventory import (
    SyncError,
    check_idempotency_key,
    collector_paused,
    inventory_sync,
    sync_job_answer,
)

MAX_BODY_BYTES = 128 * 1024 * 1024
KEY_HEADER = "Idempotency-Key"


class SyncBodyTooLarge(PayloadTooLarge):
    default_detail = f"The body exceeds {MAX_BODY_BYTES // (1024 * 1024)} MiB."


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


class SyncJSONParser(BaseParser):
    """JSON with its own size cap, the raw body kept for the Idempotency-Key digest, and a 400
    (not a 500) for bodies nested deeper than the JSON decoder's recursion limit.

    Not a ``JSONParser`` subclass on purpose: DRF reads ``request.body`` for those, which caps
    every body at ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB), far below a 50,000-asset inventory.
    """

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        request = (parser_context or {}).get("request")
        declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if declared > MAX_BODY_BYTES:
            raise SyncBodyTooLarge
        raw = stream.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            raise SyncBodyTooLarge
        if request is not None:
            request.sync_body = raw
        try:
            text = raw.decode("utf-8")
            with collector_paused():
                return json.loads(text, parse_constant=_refuse_constant)
        except UnicodeDecodeError:
            raise ParseError("The body is not UTF-8.") from None
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {str(exc)[:200]}") from None


SYNC_REQUEST = inline_serializer(
    "InventorySyncRequest",
    {
        "source": serializers.CharField(max_length=64),
        "mode": serializers.ChoiceField(choices=["upsert", "full"], default="upsert"),
        "dry_run": serializers.BooleanField(default=False),
        "prune_all": serializers.BooleanField(
            default=False,
            help_text="Only with mode full and no assets: yes, delete every asset of this source.",
        ),
        "assets": serializers.ListField(child=serializers.DictField(), default=list),
        "flows": serializers.ListField(child=serializers.DictField(), default=list),
    },
)


class InventorySyncView(APIView):
    """Upsert a source's assets and flows; editors and admins of the system's team only."""

    parser_classes = [SyncJSONParser]
    renderer_classes = [FastJSONRenderer]

    @extend_schema(
        operation_id="inventory_sync",
        request=SYNC_REQUEST,
        parameters=[
            OpenApiParameter(
                KEY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="Replays the stored answer of an earlier request with the same key and body.",
            )
        ],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="Per-item results (created/updated/unchanged)."),
            202: OpenApiResponse(OpenApiTypes.OBJECT, description="Large payload accepted as a Job."),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Not a sync request."),
            409: OpenApiResponse(OpenApiTypes.OBJECT, description="Idempotency-Key reused with another body."),
            413: OpenApiResponse(ErrorSerializer, description="More than MAX_SYNC_ITEMS assets and flows."),
            422: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Invalid items, a full sync without assets and without prune_all, or a system "
                "that would pass its size limits; nothing was written.",
            ),
        },
    )
    def post(self, request: Request, slug: str, **kwargs: Any) -> Response:
        system = system_get(user=request.user, slug=slug, team_id=token_team_id(request))
        system.capabilities.require(TeamCapability.EDIT_MODEL)
        key = request.headers.get(KEY_HEADER, "")
        try:
            check_idempotency_key(key)  # a header's problem, answered before the body is parsed
            payload = request.data  # parsed here; SyncJSONParser keeps the raw bytes for the digest
            raw: bytes = getattr(request, "sync_body", b"")
            result = inventory_sync(
                actor=request.user,
                system=system,
                payload=payload,
                idempotency_key=key,
                body_sha256=hashlib.sha256(raw).hexdigest(),
                raw_body=raw,
                job_url=lambda job: request.build_absolute_uri(job_path(system, job)),
                status_for=sync_status,
            )
        except SyncError as exc:
            refused = Response(exc.body(), status=sync_status(exc.code))
            if exc.replayed:
                refused["Idempotent-Replayed"] = "true"
            return refused
        response = Response(result.body, status=sync_status(result.code))
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        if result.queued:
            response["Location"] = result.body["job"]["url"]
        return response


def job_path(system: System, job: Job) -> str:
    return reverse("inventory-sync-job", kwargs={"version": "v1", "slug": system.slug, "job_id": job.pk})


class InventorySyncJobView(APIView):
    """Status of a queued sync: any member of the system's team may read it. Once processed,
    ``result`` is the answer the sync would have given inline (per-item results included)."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(operation_id="inventory_sync_job", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, slug: str, job_id: int, **kwargs: Any) -> Response:
        system = system_get(user=request.user, slug=slug, team_id=token_team_id(request))
        job = get_object_or_404(Job.objects.filter(system=system, kind=JobKind.SYNC), pk=job_id)
        answer = sync_job_answer(job)
        return Response(
            {
                "id": job.pk,
                "kind": job.kind,
                "status": job.status,
                "progress": job.progress,
                "created_at": job.created_at,
                "started_at": job.started_at,
                "finished_at": job.finished_at,
                "error": job.error,
                "result": job.result if answer is None else orjson.Fragment(answer),
            }
        )


urlpatterns = [
    path("systems/<slug:slug>/inventory/sync/", InventorySyncView.as_view(), name="inventory-sync"),
    path(
        "systems/<slug:slug>/inventory/sync/jobs/<int:job_id>/",
        InventorySyncJobView.as_view(),
        name="inventory-sync-job",
    ),
]
