"""REST API of identity (`/api/v1/identity/`)."""

from __future__ import annotations

import re

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger.api import DidKeyField
from smartb.api import answers

from . import selectors
from .actions import AttestDocument, RegisterSelfCustodyKey
from .signed_actions import SignedAction, action_execute, action_prepare, prepared_as_dict

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class SignatureFields(serializers.Serializer):
    created_at = serializers.CharField(required=False, help_text="from the prepare answer")
    signature = serializers.CharField(
        required=False, help_text="Ed25519 signature of signing_input, hex or base64"
    )

    def validate(self, attrs):
        if bool(attrs.get("signature")) != bool(attrs.get("created_at")):
            raise serializers.ValidationError(
                "send both created_at and signature (self-custody), or neither (custodial)"
            )
        return attrs


def digest_field():
    return serializers.RegexField(
        _HEX64, help_text="lowercase hex SHA-256 of the document", max_length=64
    )


class AttestInput(serializers.Serializer):
    did = DidKeyField(max_length=200)
    digest = digest_field()
    chain = serializers.SlugField(max_length=64, required=False, default="network")


class KeyInput(serializers.Serializer):
    did = DidKeyField(max_length=200)
    label = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


PreparedOutput = inline_serializer(
    "PreparedTransaction",
    {
        "chain": serializers.CharField(),
        "kind": serializers.CharField(),
        "actor": serializers.CharField(),
        "payload": serializers.JSONField(),
        "created_at": serializers.CharField(),
        "signing_input": serializers.CharField(help_text="base64 of the RFC 8785 bytes to sign"),
    },
)

EntryRef = inline_serializer(
    "EntryRef",
    {
        "chain": serializers.CharField(),
        "index": serializers.IntegerField(),
        "tx_hash": serializers.CharField(),
    },
)


def entry_ref(entry) -> dict:
    return {"chain": entry.chain.slug, "index": entry.index, "tx_hash": entry.tx_hash}


# A signed action's refusals: bad input or signature (400), no token (401), not your DID
# (403), no such chain (404), already done or replayed (409).
SIGNED_ACTION_ERRORS = (400, 401, 403, 404, 409)


def signed_action_endpoints(
    *, route: str, name: str, action: SignedAction, input_class, present, tag: str
):
    """The prepare endpoint and the submit endpoint of one signed action."""
    submit_class = type(f"{input_class.__name__}Signed", (input_class, SignatureFields), {})

    class Prepare(APIView):
        permission_classes = [IsAuthenticated]

        @extend_schema(
            request=input_class,
            responses=answers(200, PreparedOutput, *SIGNED_ACTION_ERRORS),
            tags=[tag],
            operation_id=f"{name}_prepare",
            description="Answer the canonical transaction bytes a self-custody client signs.",
        )
        def post(self, request):
            serializer = input_class(data=request.data)
            serializer.is_valid(raise_exception=True)
            prepared = action_prepare(action, user=request.user, data=serializer.validated_data)
            return Response(prepared_as_dict(prepared))

    class Submit(APIView):
        permission_classes = [IsAuthenticated]

        @extend_schema(
            request=submit_class,
            responses=answers(201, dict, *SIGNED_ACTION_ERRORS),
            tags=[tag],
            operation_id=name,
            description="Perform the action and append its transaction: signed by the "
            "client (created_at + signature) or, for a custodial DID, by the platform.",
        )
        def post(self, request):
            serializer = submit_class(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            result = action_execute(
                action,
                user=request.user,
                data=data,
                created_at=data.pop("created_at", None),
                signature=data.pop("signature", None),
            )
            return Response(present(result), status=status.HTTP_201_CREATED)

    Prepare.__name__ = f"{name.title().replace('_', '')}PrepareApi"
    Submit.__name__ = f"{name.title().replace('_', '')}Api"
    return [
        path(f"{route}/prepare", Prepare.as_view(), name=f"{name}_prepare"),
        path(route, Submit.as_view(), name=name),
    ]


def present_attestation(attestation) -> dict:
    return {
        "attestation": attestation.public_id,
        "did": attestation.identity.did,
        "digest": attestation.digest,
        "entry": entry_ref(attestation.entry),
    }


def present_identity(identity) -> dict:
    return {"did": identity.did, "custody": identity.custody, "label": identity.label}


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=answers(
            200,
            inline_serializer(
                "Me",
                {
                    "account": serializers.CharField(),
                    "identities": serializers.ListField(child=serializers.DictField()),
                },
            ),
            401,
        ),
        tags=["identity"],
    )
    def get(self, request):
        identities = selectors.identities_of(user=request.user)
        return Response(
            {
                "account": request.user.public_id,
                "identities": [present_identity(i) for i in identities],
            }
        )


class CredentialVerifyInput(serializers.Serializer):
    credential = serializers.JSONField()


class CredentialVerifyApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=CredentialVerifyInput,
        responses=answers(
            200,
            inline_serializer(
                "CredentialVerification",
                {"verified": serializers.BooleanField(), "reason": serializers.CharField()},
            ),
            400,
        ),
        tags=["identity"],
        description="Verify a W3C VC 2.0 with an eddsa-jcs-2022 proof, and its revocation "
        "status when it was issued here.",
    )
    def post(self, request):
        serializer = CredentialVerifyInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(selectors.credential_verify(serializer.validated_data["credential"]))


urlpatterns = [
    path("me", MeApi.as_view(), name="me"),
    path("credentials/verify", CredentialVerifyApi.as_view(), name="credential_verify"),
    *signed_action_endpoints(
        route="attestations",
        name="attestation_create",
        action=AttestDocument(),
        input_class=AttestInput,
        present=present_attestation,
        tag="identity",
    ),
    *signed_action_endpoints(
        route="keys",
        name="key_register",
        action=RegisterSelfCustodyKey(),
        input_class=KeyInput,
        present=present_identity,
        tag="identity",
    ),
]
