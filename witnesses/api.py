"""Public, read-only REST API of witnessing (`/api/v1/witnesses/`).

- `GET <chain>/checkpoint`: the latest witnessed checkpoint of a chain of this deployment, as
  a C2SP signed note: the log's signature lines, then one cosignature/v1 line per witness.
- `GET <chain>/cosignatures`: who cosigned which checkpoint of the chain, and when.
- `GET cities/<city>/relations`: the logs a city witnesses, the cities witnessing its chain,
  and the inconsistency evidence about either.
- `POST cities/<city>/add-checkpoint`: C2SP tlog-witness push: a log the city witnesses
  sends its new checkpoint with a consistency proof (text/plain) and gets the city's
  cosignature line back; the submission prefix of the city's witness is
  `/api/v1/witnesses/cities/<city>`, its name `witness_key_name(city)`, its key the city's DID.

Errors leave as `{"error": {"code", "message"}}` (`smartb.api`).
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.selectors import city_get
from ledger.selectors import chain_get
from smartb.api import ErrorOutput

from . import selectors
from .errors import OldSizeMismatch, PushMalformed
from .services import witness_checkpoint_add
from .tlog_witness import MAX_BODY, SIZE_CONTENT_TYPE

TAG = "witnesses"


class PublicReadView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []


ErrorBody = ErrorOutput  # the API's error body: its 400 carries `details`, an object


class CosignatureOutput(serializers.Serializer):
    witness = serializers.CharField(source="relation.witness.slug", help_text="city slug")
    witness_did = serializers.CharField()
    key_name = serializers.CharField()
    origin = serializers.CharField()
    tree_size = serializers.IntegerField()
    root = serializers.CharField(help_text="Merkle root, hex")
    timestamp = serializers.IntegerField(help_text="POSIX seconds, as signed")
    signature = serializers.CharField(help_text="Ed25519 signature, hex")
    line = serializers.CharField(help_text="the C2SP note signature line")


class RelationOutput(serializers.Serializer):
    public_id = serializers.CharField()
    witness = serializers.CharField(source="witness.slug")
    source = serializers.CharField()
    log = serializers.CharField(source="log_slug")
    origin = serializers.CharField()
    base_url = serializers.CharField()
    validators = serializers.ListField(
        child=serializers.CharField(),
        source="log_keys",
        help_text="the log's validator set in force at the latest checkpoint cosigned",
    )
    quorum = serializers.IntegerField()
    pending_validator_changes = serializers.ListField(
        child=serializers.DictField(),
        source="pending_changes",
        help_text="changes the log proved, in force from a later block height",
    )
    last_height = serializers.IntegerField(
        allow_null=True, help_text="block height of the latest checkpoint cosigned, once known"
    )
    active = serializers.BooleanField(source="is_active")
    last_size = serializers.IntegerField(allow_null=True)
    last_root = serializers.CharField()
    last_seen_at = serializers.DateTimeField(allow_null=True)
    last_checked_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()


class InconsistencyOutput(serializers.Serializer):
    public_id = serializers.CharField()
    relation = serializers.CharField(source="relation.public_id")
    witness = serializers.CharField(source="relation.witness.slug")
    reason = serializers.CharField()
    old_checkpoint = serializers.CharField()
    new_checkpoint = serializers.CharField()
    proof = serializers.JSONField(allow_null=True)
    digest = serializers.CharField()
    detected_at = serializers.DateTimeField()


class RelationsOutput(serializers.Serializer):
    city = serializers.CharField()
    witnesses_logs = RelationOutput(many=True)
    witnessed_by = RelationOutput(many=True)
    inconsistencies = InconsistencyOutput(many=True)


class WitnessedCheckpointApi(PublicReadView):
    @extend_schema(
        tags=[TAG],
        operation_id="witnesses_checkpoint",
        description=(
            "The latest checkpoint of the chain that witnesses cosigned: the log's C2SP "
            "signed note with every witness's cosignature/v1 line appended."
        ),
        responses={(200, "text/plain"): OpenApiTypes.STR, 404: ErrorBody},
    )
    def get(self, request, slug: str):
        chain = chain_get(slug=slug)
        witnessed = selectors.witnessed_checkpoint(chain=chain)
        return HttpResponse(witnessed.text, content_type="text/plain; charset=utf-8")


class CosignatureListApi(PublicReadView):
    @extend_schema(
        tags=[TAG],
        operation_id="witnesses_cosignatures",
        parameters=[OpenApiParameter("limit", int, description="at most 200, default 50")],
        responses={200: CosignatureOutput(many=True), 400: ErrorBody, 404: ErrorBody},
    )
    def get(self, request, slug: str):
        chain = chain_get(slug=slug)
        raw = request.query_params.get("limit", "50")
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 200:
            raise serializers.ValidationError({"limit": ["an integer from 1 to 200"]})
        rows = selectors.cosignature_list(chain=chain, limit=int(raw))
        return Response(CosignatureOutput(rows, many=True).data)


class CityRelationsApi(PublicReadView):
    @extend_schema(
        tags=[TAG],
        operation_id="witnesses_city_relations",
        responses={200: RelationsOutput, 404: ErrorBody},
    )
    def get(self, request, slug: str):
        city = city_get(slug)
        body = {
            "city": city.slug,
            "witnesses_logs": selectors.relations_watched_by(city=city).select_related("witness"),
            "witnessed_by": selectors.relations_watching(chain=city.chain),
            "inconsistencies": selectors.inconsistencies_about(city=city)[:50],
        }
        return Response(RelationsOutput(body).data)


class AddCheckpointApi(PublicReadView):
    """A write with no account: the log authenticates itself by its checkpoint's signatures
    (C2SP tlog-witness), so no token, no session and no CSRF token are involved."""

    @extend_schema(
        tags=[TAG],
        operation_id="witnesses_add_checkpoint",
        description=(
            "C2SP tlog-witness `add-checkpoint`: the body is `old <size>`, the consistency "
            "proof (one base64 hash per line, at most 63), an empty line, then the checkpoint "
            "(a C2SP signed note of a log the city witnesses, signed by a quorum of its "
            "validators). 200: the city's cosignature/v1 line(s). 409 (`text/x.tlog.size`): "
            "the size the city last cosigned, when `old` is not that size or the same size "
            "came with another root. 403: not signed by a quorum of the log's validators. "
            "404: no such city, or it does not witness that origin. 422: the proof fails."
        ),
        request={"text/plain": OpenApiTypes.STR},
        responses={
            (200, "text/plain"): OpenApiTypes.STR,
            400: ErrorBody,
            403: ErrorBody,
            404: ErrorBody,
            (409, SIZE_CONTENT_TYPE): OpenApiTypes.STR,
            422: ErrorBody,
        },
    )
    def post(self, request, slug: str):
        city = city_get(slug)
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isascii() or not length.isdigit() or int(length) > MAX_BODY:
            raise PushMalformed()
        try:
            cosignature = witness_checkpoint_add(city=city, body=request.body)
        except OldSizeMismatch as conflict:
            return HttpResponse(f"{conflict.size}\n", status=409, content_type=SIZE_CONTENT_TYPE)
        return HttpResponse(cosignature.line, content_type="text/plain; charset=utf-8")
