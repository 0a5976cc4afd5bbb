"""Public REST API of the ledger (`/api/v1/ledger/`): reads, and the validators' signed
writes (block signatures, equivocation evidence, key rotations), which a signature
authenticates rather than an account."""

from __future__ import annotations

import base64

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from smartb.api import ErrorOutput, answers, error_response, parsed

from . import selectors
from .canonical import MAX_SAFE_INTEGER, canonical_json
from .checkpoint import note_body
from .didkey import InvalidDid, did_from_public_key, public_key_from_did
from .errors import EquivocationDetected, ProofUnavailable
from .export import block_dict, transaction_dict
from .receipt_check import receipt_check
from .signing import checkpoint_origin
from .validators import (
    block_signature_submit,
    equivocation_record,
    rotation_successor_statement,
    validator_key_rotate_prepare,
    validator_key_rotate_signed,
)


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


AWAITING_HEADER = "Smartb-Blocks-Awaiting-Signatures"


class CheckpointApi(PublicReadView):
    @extend_schema(
        responses={(200, "text/plain"): OpenApiTypes.STR, 400: ErrorOutput, 404: ErrorOutput},
        operation_id="ledger_checkpoint",
        description=(
            "The latest FINAL block (signed by a quorum of the validators in force at its "
            "height) as a C2SP tlog-checkpoint signed note, one signature line per validator. "
            "When later blocks still await signatures, the `Smartb-Blocks-Awaiting-Signatures` "
            "response header says how many."
        ),
    )
    def get(self, request, slug: str):
        chain = selectors.chain_get(slug=slug)
        block = selectors.block_latest_final(chain=chain)
        if block is None:
            raise ProofUnavailable("the chain has no final block yet")
        text = selectors.block_checkpoint(block=block, chain_slug=chain.slug)
        response = HttpResponse(text, content_type="text/plain; charset=utf-8")
        if block.height != chain.block_count - 1:
            # Later blocks await their validators' signatures: say so beside the note.
            response[AWAITING_HEADER] = str(chain.block_count - 1 - block.height)
        return response


BlockOutput = inline_serializer(
    "Block",
    {
        "height": serializers.IntegerField(),
        "prev_hash": serializers.CharField(),
        "tree_size": serializers.IntegerField(),
        "root": serializers.CharField(),
        "sealed_at": serializers.CharField(),
        "block_hash": serializers.CharField(),
        "final": serializers.BooleanField(),
        "signatures": serializers.ListField(child=serializers.DictField()),
        "validators": serializers.ListField(
            child=serializers.CharField(), help_text="the validator set in force at this height"
        ),
        "quorum": serializers.IntegerField(),
    },
)


class BlockApi(PublicReadView):
    @extend_schema(responses=answers(200, BlockOutput, 404), operation_id="ledger_block")
    def get(self, request, slug: str, height: int):
        chain = selectors.chain_get(slug=slug)
        block = selectors.block_get(chain=chain, height=height)
        validator_set = selectors.validator_set_at(chain=chain, height=block.height)
        return Response(
            {
                "chain": chain.slug,
                **block_dict(block),
                "validators": list(validator_set.members),
                "quorum": validator_set.quorum,
            }
        )


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
    @extend_schema(responses=answers(200, EntryOutput, 404), operation_id="ledger_entry")
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
        responses=answers(200, InclusionOutput, 400, 404),
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
        responses=answers(200, ConsistencyOutput, 400, 404),
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
        responses=answers(
            200,
            inline_serializer(
                "ReceiptVerification",
                {
                    "holds": serializers.BooleanField(),
                    "reason": serializers.CharField(),
                    "checks": serializers.ListField(child=serializers.DictField()),
                    "recorded_here": serializers.BooleanField(),
                },
            ),
            400,
        ),
        operation_id="ledger_receipt_verify",
    )
    def post(self, request):
        serializer = ReceiptInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = receipt_check(serializer.validated_data["receipt"])
        return Response(result)


# Validators: the set in force, blocks awaiting signatures, signatures from self-custody
# validators, equivocation evidence. The signatures authenticate the caller: a validator's
# Ed25519 key is what these endpoints check, so no account or token is needed.

ValidatorSetOutput = inline_serializer(
    "ValidatorSet",
    {
        "members": serializers.ListField(child=serializers.CharField()),
        "quorum": serializers.IntegerField(),
    },
)

VALIDATOR_CHANGE_FIELDS = {
    "effective_height": serializers.IntegerField(),
    "kind": serializers.CharField(),
    "members": serializers.ListField(child=serializers.CharField()),
    "quorum": serializers.IntegerField(),
    "validator": serializers.CharField(),
    "successor": serializers.CharField(),
    "entry_index": serializers.IntegerField(),
    "successor_signature": serializers.CharField(
        allow_null=True,
        help_text="a key rotation's proof that the new key accepted it (see `rotations`)",
    ),
}

ROTATION_FIELDS = {
    "validator": serializers.CharField(),
    "successor": serializers.CharField(),
    "effective_height": serializers.IntegerField(),
    "entry_index": serializers.IntegerField(),
    "created_at": serializers.CharField(),
    "successor_statement": serializers.CharField(
        help_text="base64 of the RFC 8785 statement the successor's key signed, rebuilt from "
        "the rotation's transaction (chain, validator, successor, effective_height, created_at)"
    ),
    "successor_signature": serializers.CharField(
        allow_null=True,
        help_text="the successor's Ed25519 signature of successor_statement (hex); null for "
        "a rotation recorded before these proofs were kept",
    ),
}


def _change_dict(change, proofs: dict[int, str]) -> dict:
    return {
        "effective_height": change.effective_height,
        "kind": change.kind,
        "members": list(change.members),
        "quorum": change.quorum,
        "validator": change.validator,
        "successor": change.successor,
        "entry_index": change.position,
        "successor_signature": proofs.get(change.position) or None,
    }


def _rotation_dict(chain_slug: str, rotation) -> dict:
    created_at = rotation.entry.created_at_text
    statement = rotation_successor_statement(
        chain=chain_slug,
        validator=rotation.validator,
        successor=rotation.successor,
        effective_height=rotation.effective_height,
        created_at=created_at,
    )
    return {
        "validator": rotation.validator,
        "successor": rotation.successor,
        "effective_height": rotation.effective_height,
        "entry_index": rotation.entry.index,
        "created_at": created_at,
        "successor_statement": base64.b64encode(statement).decode(),
        "successor_signature": rotation.successor_signature or None,
    }


class ValidatorsApi(PublicReadView):
    @extend_schema(
        responses=answers(
            200,
            inline_serializer(
                "ChainValidators",
                {
                    "chain": serializers.CharField(),
                    "next_height": serializers.IntegerField(),
                    "in_force": ValidatorSetOutput,
                    "scheduled": inline_serializer(
                        "ValidatorChange", VALIDATOR_CHANGE_FIELDS, many=True
                    ),
                    "latest_final_height": serializers.IntegerField(allow_null=True),
                    "awaiting_heights": serializers.ListField(child=serializers.IntegerField()),
                    "equivocations": serializers.IntegerField(),
                    "rotations": inline_serializer("KeyRotation", ROTATION_FIELDS, many=True),
                },
            ),
            404,
        ),
        operation_id="ledger_validators",
        description=(
            "The validator set in force for the next block, the changes scheduled after it, "
            "the latest final block and the blocks still awaiting a quorum of signatures; "
            "and every key rotation recorded, with the statement its successor key signed and "
            "that signature, so anyone can check again that the new key accepted it."
        ),
    )
    def get(self, request, slug: str):
        chain = selectors.chain_get(slug=slug)
        schedule = selectors.chain_schedule(chain=chain)
        latest = selectors.block_latest_final(chain=chain)
        rotations = selectors.rotation_list(chain=chain)
        proofs = {r.entry.index: r.successor_signature for r in rotations}
        return Response(
            {
                "chain": chain.slug,
                "next_height": chain.block_count,
                "in_force": schedule.at(chain.block_count).as_dict(),
                "scheduled": [
                    _change_dict(c, proofs) for c in schedule.upcoming(max(chain.block_count, 0))
                ],
                "latest_final_height": latest.height if latest else None,
                "awaiting_heights": [
                    s.block.height for s in selectors.blocks_awaiting(chain=chain, limit=100)
                ],
                "equivocations": chain.equivocations.count(),
                "rotations": [_rotation_dict(chain.slug, r) for r in rotations],
            }
        )


VALIDATOR_CHANGE_ENTRY_FIELDS = {
    "index": serializers.IntegerField(),
    "kind": serializers.CharField(),
    "actor": serializers.CharField(),
    "payload": serializers.JSONField(),
    "created_at": serializers.CharField(),
    "signature": serializers.CharField(),
    "tx_hash": serializers.CharField(),
    "leaf_hash": serializers.CharField(),
}


class ValidatorChangeListApi(PublicReadView):
    @extend_schema(
        parameters=[
            OpenApiParameter("start", int, description="first index of the range (default 0)"),
            OpenApiParameter(
                "stop", int, description="index after the range (default: the chain's size)"
            ),
            OpenApiParameter(
                "limit",
                int,
                description=f"at most this many changes (1 to {selectors.VALIDATOR_CHANGES_PAGE})",
            ),
        ],
        responses=answers(
            200,
            inline_serializer(
                "ValidatorChangePage",
                {
                    "chain": serializers.CharField(),
                    "start": serializers.IntegerField(),
                    "stop": serializers.IntegerField(),
                    "changes": inline_serializer(
                        "ValidatorChangeEntry", VALIDATOR_CHANGE_ENTRY_FIELDS, many=True
                    ),
                    "next": serializers.IntegerField(
                        allow_null=True,
                        help_text="ask again with start=next for the rest of the range",
                    ),
                },
            ),
            400,
            404,
        ),
        operation_id="ledger_validator_changes",
        description=(
            "The chain's validator-change transactions (`ledger.validators.set` and "
            "`ledger.validators.rotate`, signed as stored) with an index in [start, stop), in "
            "index order, one page at a time. A light client proves each one itself (inclusion "
            "proof, block signed by the set before it) and trusts none of this list."
        ),
    )
    def get(self, request, slug: str):
        chain = selectors.chain_get(slug=slug)
        start = _int_param(request, "start", default=0)
        stop = _int_param(request, "stop", default=chain.size)
        limit = _int_param(request, "limit", default=selectors.VALIDATOR_CHANGES_PAGE)
        if stop < start:
            raise ProofUnavailable("stop must not be below start")
        if not 1 <= limit <= selectors.VALIDATOR_CHANGES_PAGE:
            raise ProofUnavailable(
                f"limit must be between 1 and {selectors.VALIDATOR_CHANGES_PAGE}"
            )
        entries, following = selectors.validator_change_entries(
            chain=chain, start=start, stop=stop, limit=limit
        )
        return Response(
            {
                "chain": chain.slug,
                "start": start,
                "stop": stop,
                "changes": [transaction_dict(entry) for entry in entries],
                "next": following,
            }
        )


AWAITING_FIELDS = {
    "height": serializers.IntegerField(),
    "header": serializers.DictField(),
    "header_signing_input": serializers.CharField(
        help_text="base64 of the RFC 8785 canonical header: sign it (Ed25519)"
    ),
    "note_signing_input": serializers.CharField(
        help_text="base64 of the C2SP checkpoint note body: sign it too"
    ),
    "key_name": serializers.CharField(),
    "signed": serializers.IntegerField(),
    "quorum": serializers.IntegerField(),
    "missing": serializers.ListField(child=serializers.CharField()),
}


class BlocksAwaitingApi(PublicReadView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "validator", str, description="only the blocks this validator DID may still sign"
            )
        ],
        responses=answers(
            200, inline_serializer("BlockAwaitingSignatures", AWAITING_FIELDS, many=True), 404
        ),
        operation_id="ledger_blocks_awaiting",
        description="Blocks not final yet, oldest first (at most 100), with the bytes to sign.",
    )
    def get(self, request, slug: str):
        chain = selectors.chain_get(slug=slug)
        validator = request.query_params.get("validator") or None
        origin = checkpoint_origin(chain.slug)
        rows = []
        for status in selectors.blocks_awaiting(chain=chain, validator=validator):
            block = status.block
            header = block.header(chain.slug)
            note = note_body(origin, block.tree_size, bytes.fromhex(block.root))
            rows.append(
                {
                    "height": block.height,
                    "header": header,
                    "header_signing_input": base64.b64encode(canonical_json(header)).decode(),
                    "note_signing_input": base64.b64encode(note.encode()).decode(),
                    "key_name": origin,
                    "signed": status.signed,
                    "quorum": status.validator_set.quorum,
                    "missing": status.missing,
                }
            )
        return Response(rows)


class BlockSignatureInput(serializers.Serializer):
    validator = serializers.CharField(max_length=200, help_text="the validator's did:key")
    header_signature = serializers.CharField(
        max_length=200, help_text="Ed25519 over header_signing_input, hex or base64"
    )
    note_signature = serializers.CharField(
        max_length=200, help_text="Ed25519 over note_signing_input, hex or base64"
    )
    header = serializers.DictField(
        required=False, help_text="the header signed, when it is not the block's (evidence)"
    )


BlockSignatureOutput = inline_serializer(
    "BlockSignatureAccepted",
    {
        "chain": serializers.CharField(),
        "height": serializers.IntegerField(),
        "validator": serializers.CharField(),
        "created": serializers.BooleanField(),
        "final": serializers.BooleanField(),
    },
)


class BlockSignatureApi(PublicReadView):
    @extend_schema(
        request=BlockSignatureInput,
        responses={
            201: BlockSignatureOutput,
            200: BlockSignatureOutput,
            400: ErrorOutput,
            403: ErrorOutput,
            404: ErrorOutput,
            409: ErrorOutput,
        },
        operation_id="ledger_block_signature",
        description=(
            "A self-custody validator signs a block: 201 when added, 200 when it had signed "
            "already, 400 when a signature does not verify, 403 when the DID is not in the set "
            "in force at that height, 409 when it signed another header for the same height "
            "(equivocation: the evidence is kept and shown on the explorer)."
        ),
    )
    def post(self, request, slug: str, height: int):
        data = parsed(BlockSignatureInput, request.data)
        selectors.chain_get(slug=slug)
        result = block_signature_submit(
            chain=slug,
            height=height,
            validator=data["validator"],
            header_signature=data["header_signature"],
            note_signature=data["note_signature"],
            header=data.get("header"),
        )
        if result.evidence is not None:
            return error_response(
                "equivocation",
                EquivocationDetected.default_message,
                409,
                details=equivocation_dict(result.evidence),
            )
        return Response(
            {
                "chain": slug,
                "height": height,
                "validator": data["validator"],
                "created": result.created,
                "final": result.final,
            },
            status=201 if result.created else 200,
        )


class DidKeyField(serializers.CharField):
    """A did:key holding an Ed25519 public key, in its canonical spelling (no DID URL
    fragment). The identity API's key registration uses it too."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            canonical = did_from_public_key(public_key_from_did(value))
        except InvalidDid:
            canonical = None
        if value != canonical:
            raise serializers.ValidationError("not a did:key holding an Ed25519 public key")
        return value


class RotationInput(serializers.Serializer):
    validator = DidKeyField(max_length=200, help_text="the validator's current did:key")
    successor = DidKeyField(max_length=200, help_text="the did:key that takes its place")
    effective_height = serializers.IntegerField(
        min_value=1,
        max_value=MAX_SAFE_INTEGER,
        required=False,
        help_text="first block the successor signs; default: the first height allowed",
    )


class RotationSignedInput(RotationInput):
    effective_height = serializers.IntegerField(
        min_value=1, max_value=MAX_SAFE_INTEGER, help_text="from the prepare answer"
    )
    created_at = serializers.CharField(max_length=40, help_text="from the prepare answer")
    signature = serializers.CharField(
        max_length=200, help_text="the validator's Ed25519 signature of signing_input"
    )
    successor_signature = serializers.CharField(
        max_length=200, help_text="the successor's Ed25519 signature of successor_signing_input"
    )


RotationPreparedOutput = inline_serializer(
    "ValidatorRotationPrepared",
    {
        "chain": serializers.CharField(),
        "kind": serializers.CharField(),
        "actor": serializers.CharField(),
        "payload": serializers.JSONField(),
        "created_at": serializers.CharField(),
        "effective_height": serializers.IntegerField(),
        "signing_input": serializers.CharField(
            help_text="base64 of the RFC 8785 transaction bytes: the validator's key signs them"
        ),
        "successor_signing_input": serializers.CharField(
            help_text="base64 of the successor's statement: the successor's key signs it"
        ),
        "signature_algorithm": serializers.CharField(),
        "signature_encoding": serializers.CharField(),
    },
)

RotationOutput = inline_serializer(
    "ValidatorRotation",
    {
        "chain": serializers.CharField(),
        "kind": serializers.CharField(),
        "validator": serializers.CharField(),
        "successor": serializers.CharField(),
        "effective_height": serializers.IntegerField(),
        "entry_index": serializers.IntegerField(),
        "tx_hash": serializers.CharField(),
    },
)

ROTATION_REFUSALS = (
    "400 when a DID is not a did:key, the successor validates already, a signature does not "
    "verify or the prepared rotation is stale (created_at too old, or the chain sealed past "
    "effective_height: prepare again); 403 when the validator is not in the set in force at "
    "that height; 404 for an unknown chain; 409 when this key, or a rotation to this "
    "successor, is already scheduled (a replay, or a concurrent rotation)."
)


class ValidatorRotatePrepareApi(PublicReadView):
    @extend_schema(
        request=RotationInput,
        responses=answers(200, RotationPreparedOutput, 400, 403, 404, 409),
        operation_id="ledger_validator_rotate_prepare",
        description=(
            "A self-custody validator rotating its key, step 1: the transaction its current "
            "key signs and the statement its successor key signs (both base64), with "
            "created_at and effective_height to send back. Writes nothing. " + ROTATION_REFUSALS
        ),
    )
    def post(self, request, slug: str):
        data = parsed(RotationInput, request.data)
        prepared = validator_key_rotate_prepare(
            chain=selectors.chain_get(slug=slug),
            validator=data["validator"],
            successor=data["successor"],
            effective_height=data.get("effective_height"),
        )
        return Response(
            {
                **prepared.transaction.fields,
                "effective_height": prepared.effective_height,
                "signing_input": base64.b64encode(prepared.transaction.signing_bytes).decode(),
                "successor_signing_input": base64.b64encode(prepared.successor_statement).decode(),
                "signature_algorithm": "Ed25519",
                "signature_encoding": "hex or base64",
            }
        )


class ValidatorRotateApi(PublicReadView):
    @extend_schema(
        request=RotationSignedInput,
        responses=answers(201, RotationOutput, 400, 403, 404, 409),
        operation_id="ledger_validator_rotate",
        description=(
            "A self-custody validator rotating its key, step 2: the prepare's input with "
            "created_at, effective_height and both signatures. 201: the signed "
            "`ledger.validators.rotate` transaction is appended and the successor signs from "
            "effective_height; the successor's signature is kept with it (see `rotations` in "
            "the validators answer). Nothing is written on a refusal. " + ROTATION_REFUSALS
        ),
    )
    def post(self, request, slug: str):
        data = parsed(RotationSignedInput, request.data)
        change = validator_key_rotate_signed(
            chain=selectors.chain_get(slug=slug),
            validator=data["validator"],
            successor=data["successor"],
            effective_height=data["effective_height"],
            created_at=data["created_at"],
            signature=data["signature"],
            successor_signature=data["successor_signature"],
        )
        return Response(
            {
                "chain": slug,
                "kind": change.kind,
                "validator": change.validator,
                "successor": change.successor,
                "effective_height": change.effective_height,
                "entry_index": change.entry.index,
                "tx_hash": change.entry.tx_hash,
            },
            status=201,
        )


class EquivocationInput(serializers.Serializer):
    chain = serializers.SlugField(max_length=64)
    validator = serializers.CharField(max_length=200)
    header_a = serializers.DictField()
    signature_a = serializers.CharField(max_length=200)
    header_b = serializers.DictField()
    signature_b = serializers.CharField(max_length=200)


EQUIVOCATION_FIELDS = {
    "chain": serializers.CharField(),
    "height": serializers.IntegerField(),
    "validator": serializers.CharField(),
    "header_a": serializers.DictField(),
    "signature_a": serializers.CharField(),
    "digest_a": serializers.CharField(),
    "header_b": serializers.DictField(),
    "signature_b": serializers.CharField(),
    "digest_b": serializers.CharField(),
    "entry_index": serializers.IntegerField(allow_null=True),
}
EquivocationOutput = inline_serializer("Equivocation", EQUIVOCATION_FIELDS)


def equivocation_dict(evidence) -> dict:
    return {
        "chain": evidence.chain.slug,
        "height": evidence.height,
        "validator": evidence.validator,
        "header_a": evidence.header_a,
        "signature_a": evidence.signature_a,
        "digest_a": evidence.digest_a,
        "header_b": evidence.header_b,
        "signature_b": evidence.signature_b,
        "digest_b": evidence.digest_b,
        "entry_index": evidence.entry.index if evidence.entry_id else None,
    }


class EquivocationApi(PublicReadView):
    @extend_schema(
        request=EquivocationInput,
        responses={
            201: EquivocationOutput,
            200: EquivocationOutput,
            400: ErrorOutput,
            403: ErrorOutput,
            404: ErrorOutput,
        },
        operation_id="ledger_equivocation_submit",
        description=(
            "Evidence that a validator signed two different headers for one height: both "
            "signatures must verify with its key. 201 when new, 200 when already kept."
        ),
    )
    def post(self, request):
        data = parsed(EquivocationInput, request.data)
        selectors.chain_get(slug=data["chain"])
        evidence, created = equivocation_record(
            chain=data["chain"],
            validator=data["validator"],
            header_a=data["header_a"],
            signature_a=data["signature_a"],
            header_b=data["header_b"],
            signature_b=data["signature_b"],
        )
        return Response(equivocation_dict(evidence), status=201 if created else 200)


class EquivocationListApi(PublicReadView):
    @extend_schema(
        responses=answers(
            200, inline_serializer("EquivocationList", EQUIVOCATION_FIELDS, many=True), 404
        ),
        operation_id="ledger_equivocations",
    )
    def get(self, request, slug: str):
        chain = selectors.chain_get(slug=slug)
        rows = selectors.equivocation_list(chain=chain).select_related("chain", "entry")
        return Response([equivocation_dict(e) for e in rows])
