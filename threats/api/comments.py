"""API v1: comments on one finding (list, add, remove), shaped like the plan comments endpoint.

Scoping is the finding selector's: another team's system, or a finding of another system, is a
404. Roles are the services' (viewers read, editors, risk owners and admins write; the author or
an admin removes), and their PermissionDenied and ValidationError become the API's one error
shape in ``workbench.api.errors``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from threats import selectors
from threats.models import FindingComment
from threats.services.comments import finding_comment_add, finding_comment_remove
from workbench.api.base import SystemScopedMixin


class FindingCommentSerializer(serializers.ModelSerializer):
    class Meta:
        model = FindingComment
        fields = ["id", "author_name", "body", "created_at"]
        read_only_fields = ["id", "author_name", "created_at"]


class FindingCommentListView(SystemScopedMixin, APIView):
    """GET: the finding's comments, oldest first. POST: add one (not viewers, not read-only tokens)."""

    def _finding(self, pk: int) -> Any:
        return selectors.finding_of(system=self.get_system(), pk=pk)

    @extend_schema(summary="Comments on a finding", responses={200: FindingCommentSerializer(many=True)})
    def get(self, request: Request, slug: str, pk: int, **kwargs: Any) -> Response:
        finding = self._finding(pk)
        return Response(FindingCommentSerializer(finding.comments.all(), many=True).data)

    @extend_schema(
        summary="Comment on a finding (editor, risk owner or admin)",
        request=FindingCommentSerializer,
        responses={201: FindingCommentSerializer},
    )
    def post(self, request: Request, slug: str, pk: int, **kwargs: Any) -> Response:
        finding = self._finding(pk)
        data = FindingCommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = finding_comment_add(actor=request.user, finding=finding, body=data.validated_data["body"])
        return Response(FindingCommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class FindingCommentDetailView(SystemScopedMixin, APIView):
    """DELETE: remove one comment (its author or a team admin)."""

    @extend_schema(summary="Remove a comment on a finding (its author or a team admin)", responses={204: None})
    def delete(self, request: Request, slug: str, pk: int, comment_id: int, **kwargs: Any) -> Response:
        finding = selectors.finding_of(system=self.get_system(), pk=pk)
        comment = selectors.finding_comment_get(finding=finding, pk=comment_id)
        finding_comment_remove(actor=request.user, comment=comment)
        return Response(status=status.HTTP_204_NO_CONTENT)
