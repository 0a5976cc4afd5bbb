"""REST API of the data marketplace, part 2 (`/api/v1/marketplace/`): usage contracts, metered
access, consents, purges and billing.

    POST offers                                   an ODRL offer on a dataset (its publisher)
    GET  offers/{id} · offers/{id}/policy          the offer, its ODRL JSON-LD
    POST offers/{id}/withdraw
    POST offers/{id}/quotes                       a quote: volume, source, transformation
    POST quotes/{id}/accept/prepare · accept      the agreement, signed by the consumer's DID
    GET  agreements · agreements/{id} · agreements/{id}/policy
    GET  agreements/{id}/data?distribution=&start=&end=        the data (a stream)
    POST agreements/{id}/revoke
    GET  agreements/{id}/deliveries
    POST agreements/{id}/deliveries/{d}/acknowledge/prepare · acknowledge
    POST datasets/{id}/provenance                 a derived dataset's source agreements
    GET  consents · POST consents/{id}/decide · consents/{id}/revoke      (the resident)
    GET  purges · POST purges/{id}/acknowledge/prepare · acknowledge      (the consumer)
    GET  invoices · invoices/{id} · POST invoices/{id}/pay/prepaid · invoices/{id}/pay/sepa
    GET  payments/{id}/pain001 · POST payments/{id}/settle
    GET  balances · POST cities/{slug}/balances

Signed actions (accepting, acknowledging a delivery or a purge) follow
`identity.signed_actions`: a custodial DID just submits; a self-custody client first asks
`…/prepare` for the canonical bytes, signs them, and submits `created_at` and `signature`.
Errors leave as `{"error": {"code", "message"}}` with 400/403/404/409.
"""

from __future__ import annotations

import base64

from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import selectors as city_selectors
from governance.api import ErrorOutput, answers
from identity.api import PreparedOutput, SignatureFields
from identity.models import Identity
from identity.signed_actions import action_execute, action_prepare, prepared_as_dict
from smartb.api import parsed

from ..models import Provider, ServiceVersion
from . import selectors as catalogue_selectors
from .errors import InvalidInput
from .models import (
    Agreement,
    Consent,
    Distribution,
    Invoice,
    Offer,
    OfferStatus,
    Payment,
    PrepaidBalance,
    PricingModel,
    Quote,
)
from .services import access, billing, consents, contracts, wallet

TAG = "data contracts"
ACCEPT_OFFER = contracts.AcceptOffer()
ACK_DELIVERY = access.AcknowledgeDelivery()
ACK_PURGE = wallet.AcknowledgePurge()


def _entry(entry) -> dict | None:
    if entry is None:
        return None
    return {"chain": entry.chain.slug, "index": entry.index, "tx_hash": entry.tx_hash}


def _param(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, str, OpenApiParameter.PATH, description=description)


class EntryMixin(serializers.Serializer):
    entry = serializers.SerializerMethodField()

    def get_entry(self, row) -> dict | None:
        return _entry(row.entry)


# --- output serializers ------------------------------------------------------------------------


class DataOfferOutput(EntryMixin):
    public_id = serializers.CharField()
    dataset = serializers.CharField(source="dataset.public_id")
    title = serializers.CharField()
    producer = serializers.CharField(source="producer_identity.did")
    pricing_model = serializers.ChoiceField(choices=PricingModel.choices)
    unit_price_cents = serializers.IntegerField()
    subscription_days = serializers.IntegerField(allow_null=True)
    transformation = serializers.CharField(
        source="transformation.public_id", allow_null=True, default=None
    )
    transformation_fee_cents = serializers.IntegerField()
    duration_days = serializers.IntegerField(allow_null=True)
    max_requests = serializers.IntegerField(allow_null=True)
    max_records = serializers.IntegerField(allow_null=True)
    max_bytes = serializers.IntegerField(allow_null=True)
    purposes = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=OfferStatus.choices)
    policy = serializers.JSONField(help_text="ODRL 2.2 JSON-LD (odrl:Offer)")
    policy_digest = serializers.CharField(help_text="SHA-256 of the policy's RFC 8785 JSON")
    created_at = serializers.DateTimeField()


class DataQuoteLineOutput(serializers.Serializer):
    kind = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price_cents = serializers.IntegerField()
    amount_cents = serializers.IntegerField()


class DataQuoteOutput(serializers.Serializer):
    public_id = serializers.CharField()
    offer = serializers.CharField(source="offer.public_id")
    inputs = serializers.JSONField()
    lines = DataQuoteLineOutput(many=True)
    total_cents = serializers.IntegerField()
    digest = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    agreement = serializers.CharField(
        help_text="the id the agreement will have once this quote is accepted"
    )


class DataAgreementOutput(serializers.Serializer):
    public_id = serializers.CharField()
    offer = serializers.CharField(source="offer.public_id")
    dataset = serializers.CharField(source="dataset.public_id")
    consumer = serializers.CharField(source="consumer_identity.did")
    producer = serializers.CharField(source="producer_identity.did")
    quote = serializers.CharField(source="quote.public_id", allow_null=True, default=None)
    status = serializers.CharField()
    purposes = serializers.ListField(child=serializers.CharField())
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
    max_requests = serializers.IntegerField(allow_null=True)
    max_records = serializers.IntegerField(allow_null=True)
    max_bytes = serializers.IntegerField(allow_null=True)
    requests_used = serializers.IntegerField()
    records_used = serializers.IntegerField()
    bytes_used = serializers.IntegerField()
    last_access_at = serializers.DateTimeField(allow_null=True)
    policy_digest = serializers.CharField()
    consumer_entry = serializers.SerializerMethodField()
    producer_entry = serializers.SerializerMethodField()
    consents = serializers.SerializerMethodField()

    def get_consumer_entry(self, agreement) -> dict | None:
        return _entry(agreement.consumer_entry)

    def get_producer_entry(self, agreement) -> dict | None:
        return _entry(agreement.producer_entry)

    def get_consents(self, agreement) -> dict:
        """How many data subjects answered, by status (personal data only)."""
        counts: dict[str, int] = {}
        for consent in agreement.consents.all():
            counts[consent.status] = counts.get(consent.status, 0) + 1
        return counts


class DataDeliveryOutput(EntryMixin):
    public_id = serializers.CharField()
    agreement = serializers.CharField(source="agreement.public_id")
    distribution = serializers.CharField(source="distribution.public_id")
    range_start = serializers.IntegerField()
    range_end = serializers.IntegerField(allow_null=True)
    bytes_sent = serializers.IntegerField()
    records_sent = serializers.IntegerField()
    sha256 = serializers.CharField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    ack_entry = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_ack_entry(self, delivery) -> dict | None:
        return _entry(delivery.ack_entry)


class DataConsentOutput(serializers.Serializer):
    public_id = serializers.CharField()
    agreement = serializers.CharField(source="agreement.public_id")
    dataset = serializers.CharField(source="agreement.dataset.public_id")
    subject = serializers.CharField(source="subject.did")
    status = serializers.CharField()
    receipt = serializers.JSONField(help_text="Kantara Consent Receipt / ISO/IEC 27560 fields")
    receipt_digest = serializers.CharField()
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class DataPurgeOutput(EntryMixin):
    public_id = serializers.CharField()
    agreement = serializers.CharField(source="agreement.public_id")
    subject = serializers.CharField(
        source="consent.subject.did",
        allow_null=True,
        default=None,
        help_text="delete this subject's records; null: all the agreement's data",
    )
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    ack_entry = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_ack_entry(self, purge) -> dict | None:
        return _entry(purge.ack_entry)


class DataInvoiceLineOutput(serializers.Serializer):
    kind = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price_cents = serializers.IntegerField()
    amount_cents = serializers.IntegerField()


class DataRevenueShareOutput(serializers.Serializer):
    kind = serializers.CharField()
    beneficiary_did = serializers.CharField()
    amount_cents = serializers.IntegerField()


class DataInvoiceOutput(EntryMixin):
    public_id = serializers.CharField()
    agreement = serializers.CharField(source="agreement.public_id")
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    threshold_cents = serializers.IntegerField(allow_null=True)
    total_cents = serializers.IntegerField()
    status = serializers.CharField()
    issued_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    lines = DataInvoiceLineOutput(many=True, source="lines.all")
    shares = DataRevenueShareOutput(many=True, source="shares.all")


class DataPaymentOutput(EntryMixin):
    public_id = serializers.CharField()
    invoice = serializers.CharField(source="invoice.public_id")
    kind = serializers.CharField()
    amount_cents = serializers.IntegerField()
    status = serializers.CharField()
    pain001_digest = serializers.CharField()
    created_at = serializers.DateTimeField()
    settled_at = serializers.DateTimeField(allow_null=True)


class DataBalanceOutput(serializers.Serializer):
    city = serializers.CharField(source="city.slug")
    cents = serializers.IntegerField()


class DataProvenanceOutput(EntryMixin):
    dataset = serializers.CharField(source="dataset.public_id")
    agreement = serializers.CharField(source="agreement.public_id")


# --- input serializers -------------------------------------------------------------------------

_ID = r"^[A-Za-z0-9_\-]{1,32}$"


class DataOfferInput(serializers.Serializer):
    dataset = serializers.RegexField(_ID, help_text="the dataset's public id")
    policy = serializers.JSONField(
        help_text="ODRL rules: {permission: [...], prohibition?: [...], obligation?: [...]}"
    )
    pricing_model = serializers.ChoiceField(choices=PricingModel.choices)
    unit_price_cents = serializers.IntegerField(min_value=0, required=False, default=0)
    subscription_days = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    transformation = serializers.RegexField(
        _ID, required=False, help_text="an audited app-store version transforming the data"
    )
    transformation_fee_cents = serializers.IntegerField(min_value=0, required=False, default=0)
    title = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class DataQuoteInput(serializers.Serializer):
    requests = serializers.IntegerField(min_value=1, required=False)
    records = serializers.IntegerField(min_value=0, required=False)
    bytes = serializers.IntegerField(min_value=0, required=False)
    distribution = serializers.RegexField(
        _ID, required=False, help_text="the source distribution (default: the latest)"
    )


class DataAcceptInput(serializers.Serializer):
    purposes = serializers.ListField(
        child=serializers.CharField(max_length=120), required=False, default=list, max_length=20
    )
    provider = serializers.RegexField(
        _ID, required=False, help_text="accept for this provider you own (its DID signs)"
    )
    processing = serializers.RegexField(
        _ID,
        required=False,
        help_text="your provider's service version that processes the data: its record of "
        "processing is shown to the data subjects",
    )


class DataAcceptSubmitInput(DataAcceptInput, SignatureFields):
    pass


class ContractDataQueryInput(serializers.Serializer):
    distribution = serializers.RegexField(_ID, required=False)
    start = serializers.IntegerField(min_value=0, required=False, default=0)
    end = serializers.IntegerField(min_value=1, required=False)


class DataDecisionInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[("give", "give"), ("refuse", "refuse")])


class DataProvenanceInput(serializers.Serializer):
    agreements = serializers.ListField(
        child=serializers.RegexField(_ID), min_length=1, max_length=100
    )


class DataSepaInput(serializers.Serializer):
    debtor_name = serializers.CharField(max_length=70, help_text="the account holder")
    iban = serializers.CharField(max_length=50)
    bic = serializers.CharField(max_length=11, required=False, allow_blank=True, default="")
    execution_date = serializers.DateField(required=False)


class DataTopUpInput(serializers.Serializer):
    consumer_did = serializers.CharField(max_length=200)
    amount_cents = serializers.IntegerField(min_value=1, max_value=10**10)


# --- lookups -----------------------------------------------------------------------------------


def _offer(public_id: str) -> Offer:
    offer = (
        Offer.objects.select_related("dataset__city", "producer_identity", "transformation")
        .filter(public_id=public_id)
        .first()
    )
    if offer is None:
        raise access.AgreementNotFound(_("No such offer."))
    return offer


def _quote(public_id: str, user) -> Quote:
    quote = (
        Quote.objects.select_related("offer__dataset__city__chain", "offer__producer_identity")
        .filter(public_id=public_id, consumer=user)
        .first()
    )
    if quote is None:
        raise access.AgreementNotFound(_("No such quote."))
    return quote


def _agreement_visible(public_id: str, user) -> Agreement:
    """An agreement its consumer or the dataset's publisher may read."""
    agreement = (
        Agreement.objects.select_related(
            "offer",
            "dataset__city",
            "consumer_identity",
            "producer_identity",
            "quote",
            "consumer_entry__chain",
            "producer_entry__chain",
        )
        .filter(public_id=public_id)
        .first()
    )
    if agreement is None or not (
        agreement.consumer_id == user.pk or contracts.is_publisher(user, agreement.dataset)
    ):
        raise access.AgreementNotFound()
    return agreement


def _accept_data(request, public_id: str, serializer_class) -> dict:
    data = parsed(serializer_class, request.data)
    data["quote"] = _quote(public_id, request.user)
    provider_id = data.pop("provider", None)
    data["provider"] = None
    if provider_id:
        provider = Provider.objects.filter(public_id=provider_id, owner=request.user).first()
        if provider is None:
            raise InvalidInput(_("You own no such provider."))
        data["provider"] = provider
    processing_id = data.pop("processing", None)
    data["processing"] = None
    if processing_id:
        version = ServiceVersion.objects.filter(public_id=processing_id).first()
        if version is None:
            raise InvalidInput(_("No such service version."))
        data["processing"] = version
    return data


def _signed(data: dict) -> tuple[str | None, str | None]:
    return data.pop("created_at", None), data.pop("signature", None)


AGREEMENT_PARAM = _param("public_id", "the agreement")


# --- offers and quotes -------------------------------------------------------------------------


class OfferCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=DataOfferInput,
        responses=answers(201, DataOfferOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="data_offer_create",
        description="Publish an offer on a dataset you publish: ODRL rules (validated: known "
        "actions, operators and left operands, whole numbers, ISO 8601 dates and durations) and "
        "a price in integer cents. Signed by the publisher's DID with the policy's digest.",
    )
    def post(self, request):
        data = parsed(DataOfferInput, request.data)
        dataset = catalogue_selectors.dataset_get(public_id=data.pop("dataset"), user=request.user)
        transformation_id = data.pop("transformation", None)
        transformation = None
        if transformation_id:
            transformation = ServiceVersion.objects.filter(public_id=transformation_id).first()
            if transformation is None:
                raise InvalidInput(_("No such service version."))
        offer = contracts.offer_create(
            dataset=dataset, by=request.user, transformation=transformation, **data
        )
        return Response(DataOfferOutput(offer).data, status=status.HTTP_201_CREATED)


class OfferDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_param("public_id", "the offer")],
        responses=answers(200, DataOfferOutput, 401, 404),
        tags=[TAG],
        operation_id="data_offer",
    )
    def get(self, request, public_id: str):
        return Response(DataOfferOutput(_offer(public_id)).data)


class OfferPolicyApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_param("public_id", "the offer")],
        responses={
            (200, "application/ld+json"): OpenApiTypes.OBJECT,
            401: ErrorOutput,
            404: ErrorOutput,
        },
        tags=[TAG],
        operation_id="data_offer_policy",
        description="The offer as ODRL 2.2 JSON-LD (odrl:Offer).",
    )
    def get(self, request, public_id: str):
        return Response(_offer(public_id).policy, content_type="application/ld+json")


class OfferWithdrawApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_param("public_id", "the offer")],
        request=None,
        responses=answers(200, DataOfferOutput, 401, 403, 404),
        tags=[TAG],
        operation_id="data_offer_withdraw",
    )
    def post(self, request, public_id: str):
        offer = contracts.offer_withdraw(offer=_offer(public_id), by=request.user)
        return Response(DataOfferOutput(offer).data)


class QuoteCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_param("public_id", "the offer")],
        request=DataQuoteInput,
        responses=answers(201, DataQuoteOutput, 400, 401, 404, 409),
        tags=[TAG],
        operation_id="data_quote_create",
        description="Price the offer before signing, in integer cents: by volume (requests, "
        "records, bytes; default one request of the whole source), source distribution and "
        "the transformation service in the chain. Valid 24 hours; kept with the agreement.",
    )
    def post(self, request, public_id: str):
        offer = _offer(public_id)
        data = parsed(DataQuoteInput, request.data)
        distribution = None
        if data.get("distribution"):
            distribution = Distribution.objects.filter(public_id=data["distribution"]).first()
            if distribution is None:
                raise InvalidInput(_("No such distribution."))
        quote = contracts.quote_create(
            offer=offer,
            consumer=request.user,
            requests=data.get("requests"),
            records=data.get("records"),
            byte_count=data.get("bytes"),
            distribution=distribution,
        )
        out = DataQuoteOutput({**_quote_dict(quote)}).data
        return Response(out, status=status.HTTP_201_CREATED)


def _quote_dict(quote: Quote) -> dict:
    return {
        "public_id": quote.public_id,
        "offer": quote.offer,
        "inputs": quote.inputs,
        "lines": quote.lines,
        "total_cents": quote.total_cents,
        "digest": quote.digest,
        "expires_at": quote.expires_at,
        "agreement": contracts.agreement_id_for(quote),
    }


class AcceptPrepareApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_param("public_id", "the quote")],
        request=DataAcceptInput,
        responses=answers(200, PreparedOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="data_quote_accept_prepare",
        description="The canonical bytes (RFC 8785) of the acceptance a self-custody consumer "
        "signs: the agreement's id, the offer, quote and policy digests. Writes nothing.",
    )
    def post(self, request, public_id: str):
        data = _accept_data(request, public_id, DataAcceptInput)
        prepared = action_prepare(ACCEPT_OFFER, user=request.user, data=data)
        return Response(prepared_as_dict(prepared))


class AcceptApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_param("public_id", "the quote")],
        request=DataAcceptSubmitInput,
        responses=answers(201, DataAgreementOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="data_quote_accept",
        description="Accept the quote: the agreement (odrl:Agreement), signed by your DID (or "
        "your provider's). On personal data it waits for the data subjects' consents.",
    )
    def post(self, request, public_id: str):
        data = _accept_data(request, public_id, DataAcceptSubmitInput)
        created_at, signature = _signed(data)
        agreement = action_execute(
            ACCEPT_OFFER, user=request.user, data=data, created_at=created_at, signature=signature
        )
        return Response(DataAgreementOutput(agreement).data, status=status.HTTP_201_CREATED)


# --- agreements and data -----------------------------------------------------------------------


class AgreementCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=answers(200, DataAgreementOutput(many=True), 401),
        tags=[TAG],
        operation_id="data_agreements",
        description="The agreements you hold as a consumer, newest first.",
    )
    def get(self, request):
        rows = (
            Agreement.objects.select_related(
                "offer",
                "dataset",
                "consumer_identity",
                "producer_identity",
                "quote",
                "consumer_entry__chain",
                "producer_entry__chain",
            )
            .prefetch_related("consents")
            .filter(consumer=request.user)
            .order_by("-created_at", "-pk")[:200]
        )
        return Response(DataAgreementOutput(rows, many=True).data)


class AgreementDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[AGREEMENT_PARAM],
        responses=answers(200, DataAgreementOutput, 401, 404),
        tags=[TAG],
        operation_id="data_agreement",
    )
    def get(self, request, public_id: str):
        return Response(DataAgreementOutput(_agreement_visible(public_id, request.user)).data)


class AgreementPolicyApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[AGREEMENT_PARAM],
        responses={
            (200, "application/ld+json"): OpenApiTypes.OBJECT,
            401: ErrorOutput,
            404: ErrorOutput,
        },
        tags=[TAG],
        operation_id="data_agreement_policy",
        description="The agreement as ODRL 2.2 JSON-LD (odrl:Agreement, assigner and assignee "
        "by DID).",
    )
    def get(self, request, public_id: str):
        agreement = _agreement_visible(public_id, request.user)
        return Response(agreement.policy, content_type="application/ld+json")


class AgreementDataApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[AGREEMENT_PARAM, ContractDataQueryInput],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="the data, decrypted on the fly; headers X-Delivery-Receipt (its "
                "id) and Repr-Digest (its SHA-256, as on the ledger)",
            ),
            400: ErrorOutput,
            401: ErrorOutput,
            403: ErrorOutput,
            404: ErrorOutput,
            409: ErrorOutput,
        },
        tags=[TAG],
        operation_id="data_agreement_data",
        description="Stream what the agreement allows: its consumer only; refused when the "
        "agreement is revoked or expired (403), not consented yet, over its limits or the "
        "stored file does not decrypt (409). Personal data leaves out the records of residents "
        "who refused or withdrew. Each request is counted and writes a delivery receipt on the "
        "ledger (agreement, range, SHA-256 of the bytes sent). Ranges count records from 0, "
        "end excluded (CSV and JSON Lines).",
    )
    def get(self, request, public_id: str):
        agreement = access.agreement_get_for_consumer(public_id=public_id, user=request.user)
        query = parsed(ContractDataQueryInput, request.query_params)
        stream = access.delivery_open(
            agreement=agreement,
            user=request.user,
            distribution=query.get("distribution"),
            start=query.get("start", 0),
            end=query.get("end"),
        )
        delivery = stream.delivery
        response = StreamingHttpResponse(iter(stream), content_type=stream.media_type)
        response["Content-Length"] = str(delivery.bytes_sent)
        response["X-Delivery-Receipt"] = delivery.public_id
        response["Repr-Digest"] = f"sha-256=:{_b64(delivery.sha256)}:"
        response["Cache-Control"] = "no-store"
        response["Content-Disposition"] = (
            f'attachment; filename="{agreement.public_id}-{delivery.public_id}"'
        )
        return response


def _b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


class AgreementRevokeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[AGREEMENT_PARAM],
        request=None,
        responses=answers(200, DataAgreementOutput, 401, 403, 404),
        tags=[TAG],
        operation_id="data_agreement_revoke",
        description="End the agreement (its consumer or the dataset's publisher), signed by "
        "your DID: the next data request is refused; a consumer holding data is asked to purge.",
    )
    def post(self, request, public_id: str):
        agreement = _agreement_visible(public_id, request.user)
        agreement = contracts.agreement_revoke(agreement=agreement, by=request.user)
        return Response(DataAgreementOutput(agreement).data)


class DeliveryCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[AGREEMENT_PARAM],
        responses=answers(200, DataDeliveryOutput(many=True), 401, 404),
        tags=[TAG],
        operation_id="data_deliveries",
        description="The delivery receipts of an agreement, newest first.",
    )
    def get(self, request, public_id: str):
        agreement = _agreement_visible(public_id, request.user)
        rows = agreement.deliveries.select_related(
            "agreement", "distribution", "entry__chain", "ack_entry__chain"
        ).order_by("-created_at", "-pk")[:200]
        return Response(DataDeliveryOutput(rows, many=True).data)


def _delivery_data(request, public_id: str, delivery_id: str, serializer_class) -> dict:
    agreement = access.agreement_get_for_consumer(public_id=public_id, user=request.user)
    data = parsed(serializer_class, request.data)
    data["delivery"] = access.delivery_get_for_consumer(agreement=agreement, public_id=delivery_id)
    return data


DELIVERY_PARAMS = [AGREEMENT_PARAM, _param("delivery_id", "the delivery receipt")]


class DeliveryAckPrepareApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=DELIVERY_PARAMS,
        request=None,
        responses=answers(200, PreparedOutput, 401, 403, 404),
        tags=[TAG],
        operation_id="data_delivery_ack_prepare",
        description="The bytes a self-custody consumer signs to acknowledge a delivery "
        "receipt (its id, agreement, SHA-256 and receipt transaction). Writes nothing.",
    )
    def post(self, request, public_id: str, delivery_id: str):
        data = _delivery_data(request, public_id, delivery_id, serializers.Serializer)
        prepared = action_prepare(ACK_DELIVERY, user=request.user, data=data)
        return Response(prepared_as_dict(prepared))


class DeliveryAckApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=DELIVERY_PARAMS,
        request=SignatureFields,
        responses=answers(200, DataDeliveryOutput, 400, 401, 403, 404),
        tags=[TAG],
        operation_id="data_delivery_acknowledge",
        description="Acknowledge receiving exactly what the receipt describes, signed by the "
        "agreement's consumer DID.",
    )
    def post(self, request, public_id: str, delivery_id: str):
        data = _delivery_data(request, public_id, delivery_id, SignatureFields)
        created_at, signature = _signed(data)
        delivery = action_execute(
            ACK_DELIVERY, user=request.user, data=data, created_at=created_at, signature=signature
        )
        return Response(DataDeliveryOutput(delivery).data)


class ProvenanceApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_param("public_id", "the derived dataset")],
        request=DataProvenanceInput,
        responses=answers(201, DataProvenanceOutput(many=True), 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="data_provenance_record",
        description="Record which of your agreements fed this derived dataset (you publish it; "
        "each agreement must permit derive, aggregate, transform or use).",
    )
    def post(self, request, public_id: str):
        dataset = catalogue_selectors.dataset_get(public_id=public_id, user=request.user)
        ids = parsed(DataProvenanceInput, request.data)["agreements"]
        agreements = list(Agreement.objects.filter(public_id__in=ids, consumer=request.user))
        if len(agreements) != len(set(ids)):
            raise InvalidInput(_("Unknown agreement."))
        rows = contracts.provenance_record(dataset=dataset, agreements=agreements, by=request.user)
        return Response(DataProvenanceOutput(rows, many=True).data, status=status.HTTP_201_CREATED)


# --- consents (the resident) -------------------------------------------------------------------


class ConsentCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=answers(200, DataConsentOutput(many=True), 401),
        tags=[TAG],
        operation_id="data_consents",
        description="The consent requests to you and your answers, newest first.",
    )
    def get(self, request):
        rows = (
            Consent.objects.select_related("agreement__dataset", "subject")
            .filter(subject__user=request.user)
            .order_by("-requested_at", "-pk")[:500]
        )
        return Response(DataConsentOutput(rows, many=True).data)


class ConsentDecideApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_param("public_id", "the consent request")],
        request=DataDecisionInput,
        responses=answers(200, DataConsentOutput, 400, 401, 404, 409),
        tags=[TAG],
        operation_id="data_consent_decide",
        description="Give or refuse: a consent receipt signed by your DID, digest on the ledger.",
    )
    def post(self, request, public_id: str):
        consent = consents.consent_get_for_subject(public_id=public_id, user=request.user)
        give = parsed(DataDecisionInput, request.data)["decision"] == "give"
        consent = consents.consent_decide(consent=consent, user=request.user, give=give)
        return Response(DataConsentOutput(consent).data)


class ConsentRevokeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_param("public_id", "the consent")],
        request=None,
        responses=answers(200, DataConsentOutput, 401, 404, 409),
        tags=[TAG],
        operation_id="data_consent_revoke",
        description="Withdraw a consent you gave: your records stop flowing from the next "
        "request; a consumer holding them is asked to purge.",
    )
    def post(self, request, public_id: str):
        consent = consents.consent_get_for_subject(public_id=public_id, user=request.user)
        consent = consents.consent_revoke(consent=consent, user=request.user)
        return Response(DataConsentOutput(consent).data)


# --- purges (the consumer) ---------------------------------------------------------------------


class PurgeCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=answers(200, DataPurgeOutput(many=True), 401),
        tags=[TAG],
        operation_id="data_purges",
        description="Purge requests addressed to you, newest first.",
    )
    def get(self, request):
        rows = wallet.purges_of_consumer(request.user).select_related("ack_entry__chain")[:500]
        return Response(DataPurgeOutput(rows, many=True).data)


PURGE_PARAM = _param("public_id", "the purge request")


class PurgeAckPrepareApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[PURGE_PARAM],
        request=None,
        responses=answers(200, PreparedOutput, 401, 403, 404),
        tags=[TAG],
        operation_id="data_purge_ack_prepare",
        description="The bytes a self-custody consumer signs to acknowledge a purge request. "
        "Writes nothing.",
    )
    def post(self, request, public_id: str):
        data = {"purge": wallet.purge_get_for_consumer(public_id=public_id, user=request.user)}
        prepared = action_prepare(ACK_PURGE, user=request.user, data=data)
        return Response(prepared_as_dict(prepared))


class PurgeAckApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[PURGE_PARAM],
        request=SignatureFields,
        responses=answers(200, DataPurgeOutput, 400, 401, 403, 404),
        tags=[TAG],
        operation_id="data_purge_acknowledge",
        description="Declare the data deleted, signed by the agreement's consumer DID: the "
        "resident's wallet shows it acknowledged.",
    )
    def post(self, request, public_id: str):
        data = parsed(SignatureFields, request.data)
        created_at, signature = _signed(data)
        data["purge"] = wallet.purge_get_for_consumer(public_id=public_id, user=request.user)
        purge = action_execute(
            ACK_PURGE, user=request.user, data=data, created_at=created_at, signature=signature
        )
        return Response(DataPurgeOutput(purge).data)


# --- billing -----------------------------------------------------------------------------------


def _invoices(user):
    return (
        Invoice.objects.select_related("agreement", "entry__chain")
        .prefetch_related("lines", "shares")
        .filter(consumer=user)
    )


class InvoiceCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=answers(200, DataInvoiceOutput(many=True), 401),
        tags=[TAG],
        operation_id="data_invoices",
        description="Your invoices, newest first (integer cents).",
    )
    def get(self, request):
        rows = _invoices(request.user).order_by("-created_at", "-pk")[:200]
        return Response(DataInvoiceOutput(rows, many=True).data)


INVOICE_PARAM = _param("public_id", "the invoice")


def _invoice(request, public_id: str) -> Invoice:
    invoice = _invoices(request.user).filter(public_id=public_id).first()
    if invoice is None:
        raise billing.InvoiceNotFound()
    return invoice


class InvoiceDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[INVOICE_PARAM],
        responses=answers(200, DataInvoiceOutput, 401, 404),
        tags=[TAG],
        operation_id="data_invoice",
    )
    def get(self, request, public_id: str):
        return Response(DataInvoiceOutput(_invoice(request, public_id)).data)


class InvoicePayPrepaidApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[INVOICE_PARAM],
        request=None,
        responses=answers(201, DataPaymentOutput, 401, 404, 409),
        tags=[TAG],
        operation_id="data_invoice_pay_prepaid",
        description="Pay from your prepaid balance in the dataset's city (never below zero: "
        "409 insufficient_balance), signed by your DID; the revenue is split at once.",
    )
    def post(self, request, public_id: str):
        payment = billing.invoice_pay_prepaid(invoice=_invoice(request, public_id), by=request.user)
        return Response(DataPaymentOutput(payment).data, status=status.HTTP_201_CREATED)


class InvoicePaySepaApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[INVOICE_PARAM],
        request=DataSepaInput,
        responses=answers(201, DataPaymentOutput, 400, 401, 404, 409),
        tags=[TAG],
        operation_id="data_invoice_pay_sepa",
        description="Pay by SEPA credit transfer: your IBAN is checked (country, length, "
        "checksum) and you get an ISO 20022 pain.001.001.09 file (payments/{id}/pain001) to "
        "hand to your bank; its SHA-256 is signed on the ledger.",
    )
    def post(self, request, public_id: str):
        data = parsed(DataSepaInput, request.data)
        payment = billing.invoice_pay_sepa(
            invoice=_invoice(request, public_id), by=request.user, **data
        )
        return Response(DataPaymentOutput(payment).data, status=status.HTTP_201_CREATED)


def _payment(public_id: str) -> Payment:
    payment = (
        Payment.objects.select_related("invoice__agreement__dataset__city", "entry__chain")
        .filter(public_id=public_id)
        .first()
    )
    if payment is None:
        raise billing.InvoiceNotFound(_("No such payment."))
    return payment


class Pain001Api(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_param("public_id", "the payment")],
        responses={
            (200, "application/xml"): OpenApiResponse(OpenApiTypes.STR, description="pain.001"),
            401: ErrorOutput,
            404: ErrorOutput,
        },
        tags=[TAG],
        operation_id="data_payment_pain001",
    )
    def get(self, request, public_id: str):
        payment = _payment(public_id)
        if payment.invoice.consumer_id != request.user.pk or not payment.pain001:
            raise billing.InvoiceNotFound(_("No such payment."))
        response = HttpResponse(payment.pain001, content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="pain001-{payment.public_id}.xml"'
        return response


class PaymentSettleApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_param("public_id", "the payment")],
        request=None,
        responses=answers(200, DataPaymentOutput, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="data_payment_settle",
        description="The city's staff or the operator record that a transfer arrived: the "
        "invoice is paid and its revenue split.",
    )
    def post(self, request, public_id: str):
        payment = billing.payment_settle(payment=_payment(public_id), by=request.user)
        return Response(DataPaymentOutput(payment).data)


class BalanceCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=answers(200, DataBalanceOutput(many=True), 401),
        tags=[TAG],
        operation_id="data_balances",
        description="Your prepaid balances, per city, in cents.",
    )
    def get(self, request):
        rows = PrepaidBalance.objects.select_related("city").filter(consumer=request.user)
        return Response(DataBalanceOutput(rows, many=True).data)


class BalanceTopUpApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_param("slug", "the city")],
        request=DataTopUpInput,
        responses=answers(201, DataBalanceOutput, 400, 401, 403, 404),
        tags=[TAG],
        operation_id="data_balance_top_up",
        description="The city's staff or the operator credit a consumer's prepaid balance with "
        "money received, signed by their DID.",
    )
    def post(self, request, slug: str):
        city = city_selectors.city_get(slug)
        data = parsed(DataTopUpInput, request.data)
        identity = Identity.objects.select_related("user").filter(did=data["consumer_did"]).first()
        if identity is None:
            raise InvalidInput(_("No account holds this DID."))
        balance = billing.balance_top_up(
            city=city, consumer=identity.user, amount_cents=data["amount_cents"], by=request.user
        )
        return Response(DataBalanceOutput(balance).data, status=status.HTTP_201_CREATED)


# --- routes ------------------------------------------------------------------------------------


def _routes(route: str, view, name: str) -> list:
    """`route` as the schema shows it, and the same route with or without its trailing
    slash, hidden from the schema."""
    alias = route[:-1] if route.endswith("/") else f"{route}/"
    hidden = extend_schema(exclude=True)(type(f"{view.__name__}Alias", (view,), {}))
    return [path(route, view.as_view(), name=name), path(alias, hidden.as_view())]


OFFER = "offers/<str:public_id>"
QUOTE = "quotes/<str:public_id>"
AGREEMENT = "agreements/<str:public_id>"
DELIVERY = f"{AGREEMENT}/deliveries/<str:delivery_id>"
PURGE = "purges/<str:public_id>"
INVOICE = "invoices/<str:public_id>"

urlpatterns = [
    *_routes("offers", OfferCollectionApi, "offers"),
    *_routes(f"{OFFER}", OfferDetailApi, "offer"),
    *_routes(f"{OFFER}/policy", OfferPolicyApi, "offer_policy"),
    *_routes(f"{OFFER}/withdraw", OfferWithdrawApi, "offer_withdraw"),
    *_routes(f"{OFFER}/quotes", QuoteCreateApi, "quote_create"),
    *_routes(f"{QUOTE}/accept/prepare", AcceptPrepareApi, "accept_prepare"),
    *_routes(f"{QUOTE}/accept", AcceptApi, "accept"),
    *_routes("agreements", AgreementCollectionApi, "agreements"),
    *_routes(f"{AGREEMENT}", AgreementDetailApi, "agreement"),
    *_routes(f"{AGREEMENT}/policy", AgreementPolicyApi, "agreement_policy"),
    *_routes(f"{AGREEMENT}/data", AgreementDataApi, "agreement_data"),
    *_routes(f"{AGREEMENT}/revoke", AgreementRevokeApi, "agreement_revoke"),
    *_routes(f"{AGREEMENT}/deliveries", DeliveryCollectionApi, "deliveries"),
    *_routes(f"{DELIVERY}/acknowledge/prepare", DeliveryAckPrepareApi, "delivery_ack_prepare"),
    *_routes(f"{DELIVERY}/acknowledge", DeliveryAckApi, "delivery_ack"),
    *_routes("datasets/<str:public_id>/provenance", ProvenanceApi, "provenance"),
    *_routes("consents", ConsentCollectionApi, "consents"),
    *_routes("consents/<str:public_id>/decide", ConsentDecideApi, "consent_decide"),
    *_routes("consents/<str:public_id>/revoke", ConsentRevokeApi, "consent_revoke"),
    *_routes("purges", PurgeCollectionApi, "purges"),
    *_routes(f"{PURGE}/acknowledge/prepare", PurgeAckPrepareApi, "purge_ack_prepare"),
    *_routes(f"{PURGE}/acknowledge", PurgeAckApi, "purge_ack"),
    *_routes("invoices", InvoiceCollectionApi, "invoices"),
    *_routes(f"{INVOICE}", InvoiceDetailApi, "invoice"),
    *_routes(f"{INVOICE}/pay/prepaid", InvoicePayPrepaidApi, "invoice_pay_prepaid"),
    *_routes(f"{INVOICE}/pay/sepa", InvoicePaySepaApi, "invoice_pay_sepa"),
    *_routes("payments/<str:public_id>/pain001", Pain001Api, "payment_pain001"),
    *_routes("payments/<str:public_id>/settle", PaymentSettleApi, "payment_settle"),
    *_routes("balances", BalanceCollectionApi, "balances"),
    *_routes("cities/<slug:slug>/balances", BalanceTopUpApi, "balance_top_up"),
]
