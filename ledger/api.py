"""Public, read-only REST API of the ledger (`/api/v1/ledger/`)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors
from .errors import ProofUnavailable
from .export import block_dict, transaction_dict
from .receipt_check import receipt_check


class ChainOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    size = serializers.IntegerField()
    sealed_size = serializers.IntegerField()
    block_count = serializers.IntegerField()
    head_block_hash = serializers.CharField()


class PublicReadView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []


def _int_param(request, name: str, *, default: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        if default is None:
            raise ProofUnavailable(f"the query parameter {name!r} is required")
        return default
    # ASCII digits only: str.isdigit() also accepts "²" (int() fails) and other scripts' digits.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise ProofUnavailable(f"{name} must be a non-negative integer")
    return int(raw)


class ChainListApi(PublicReadView):
    @extend_schema(responses=ChainOutput(many=True), operation_id="ledger_chains_list")
    def get(self, request):
        return Response(ChainOutput(selectors.chain_list(), many=True).data)


class CheckpointApi(PublicReadView):
    @extend_schema(
        responses={(200, "text/plain"): OpenApiTypes.STR, 404: OpenApiTypes.OBJECT},
        operation_id="ledger_checkpoint",
        description="The latest block as a C2SP tlog-checkpoint signed note.",
    )
    def get(self, request, slug: str):
        chain = selectors.chain_get(slug=slug)
        block = selectors.block_latest(chain=chain)
        if block is None:
            raise ProofUnavailable("the chain has no sealed block yet")
        text = selectors.block_checkpoint(block=block, chain_slug=chain.slug)
        return HttpResponse(text, content_type="text/plain; charset=utf-8")


BlockOutput = inline_serializer(
    "Block",
    {
        "height": serializers.IntegerField(),
        "prev_hash": serializers.CharField(),
        "tree_size": serializers.IntegerField(),
        "root": serializers.CharField(),
        "sealed_at": serializers.CharField(),
        "block_hash": serializers.CharField(),
        "signatures": serializers.ListField(child=serializers.DictField()),
    },
)


class BlockApi(PublicReadView):
    @extend_schema(responses=BlockOutput, operation_id="ledger_block")
    def get(self, request, slug: str, height: int):
        chain = selectors.chain_get(slug=slug)
        block = selectors.block_get(chain=chain, height=height)
        return Response({"chain": chain.slug, **block_dict(block)})


EntryOutput = inline_serializer(
    "Entry",
    {
        "chain": serializers.CharField(),
        "index": serializers.IntegerField(),
        "kind": serializers.CharField(),
        "actor": serializers.CharField(),
        "payload": serializers.JSONField(),
        "created_at": serializers.CharField(),
        "signature": serializers.CharField(),
        "tx_hash": serializers.CharField(),
        "leaf_hash": serializers.CharField(),
        "block_height": serializers.IntegerField(allow_null=True),
    },
)


class EntryApi(PublicReadView):
    @extend_schema(responses=EntryOutput, operation_id="ledger_entry")
    def get(self, request, slug: str, index: int):
        chain = selectors.chain_get(slug=slug)
        entry = selectors.entry_get(chain=chain, index=index)
        block = selectors.block_containing(chain=chain, index=index)
        return Response(
            {
                "chain": chain.slug,
                **transaction_dict(entry),
                "block_height": block.height if block else None,
            }
        )


InclusionOutput = inline_serializer(
    "InclusionProof",
    {
        "chain": serializers.CharField(),
        "leaf_index": serializers.IntegerField(),
        "tree_size": serializers.IntegerField(),
        "leaf_hash": serializers.CharField(),
        "audit_path": serializers.ListField(child=serializers.CharField()),
        "root": serializers.CharField(),
    },
)


class EntryProofApi(PublicReadView):
    @extend_schema(
        parameters=[
            OpenApiParameter("tree_size", int, description="defaults to the latest block's size")
        ],
        responses=InclusionOutput,
        operation_id="ledger_entry_proof",
    )
    def get(self, request, slug: str, index: int):
        chain = selectors.chain_get(slug=slug)
        if index >= chain.size:
            raise Http404("no such transaction")
        latest = selectors.block_latest(chain=chain)
        default = latest.tree_size if latest else chain.size
        tree_size = _int_param(request, "tree_size", default=default)
        proof = selectors.inclusion_proof(chain=chain, index=index, tree_size=tree_size)
        return Response(proof.as_dict())


ConsistencyOutput = inline_serializer(
    "ConsistencyProof",
    {
        "chain": serializers.CharField(),
        "first": serializers.IntegerField(),
        "second": serializers.IntegerField(),
        "first_root": serializers.CharField(),
        "second_root": serializers.CharField(),
        "proof": serializers.ListField(child=serializers.CharField()),
    },
)


class ConsistencyApi(PublicReadView):
    @extend_schema(
        parameters=[
            OpenApiParameter("first", int, required=True),
            OpenApiParameter("second", int, required=True),
        ],
        responses=ConsistencyOutput,
        operation_id="ledger_consistency",
    )
    def get(self, request, slug: str):
        chain = selectors.chain_get(slug=slug)
        first = _int_param(request, "first")
        second = _int_param(request, "second")
        return Response(selectors.consistency_proof(chain=chain, first=first, second=second))


class ReceiptInput(serializers.Serializer):
    receipt = serializers.JSONField()


class ReceiptVerifyApi(PublicReadView):
    @extend_schema(
        request=ReceiptInput,
        responses=inline_serializer(
            "ReceiptVerification",
            {
                "holds": serializers.BooleanField(),
                "reason": serializers.CharField(),
                "checks": serializers.ListField(child=serializers.DictField()),
                "recorded_here": serializers.BooleanField(),
            },
        ),
        operation_id="ledger_receipt_verify",
    )
    def post(self, request):
        serializer = ReceiptInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = receipt_check(serializer.validated_data["receipt"])
        return Response(result)
