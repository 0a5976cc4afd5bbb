"""Usage contracts: offers (ODRL policies with a price), quotes, agreements, derived data.

An offer is the producer's ODRL 2.2 `Offer` on one of its datasets, signed by the dataset's
publisher DID on the city's chain with the policy's digest. A consumer asks for a quote
(volume, source distribution, the transformation service in the chain), then accepts it: the
acceptance, signed by the consumer's DID with the agreement policy's digest, makes the
`Agreement` (the producer's signature is its offer's). An agreement on personal data waits
for its data subjects' consents (`consents.consents_request`, in the same transaction).

Pricing and its rounding rule, in integer cents:

- free: 0; per request: requests × price; per record: records × price; subscription:
  periods × price (periods = the agreement's days / the offer's period, rounded up);
- per MB (10^6 bytes): bytes × price-per-MB / 10^6, rounded half up to the cent (half a cent
  becomes one cent, less is dropped): `per_mb_cents`;
- a transformation service in the chain adds its fee once per request;
- metered usage telescopes: a delivery is billed price(volume after) − price(volume before),
  so the sum over any number of deliveries is exactly the price of the total volume and
  rounding never accumulates (`metered_amount`).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.actions import platform_signer
from identity.models import Identity, User, new_public_id
from identity.signed_actions import SignedAction
from ledger.models import Transaction
from ledger.services import ledger_append
from marketplace.models import Provider, ServiceVersion
from marketplace.permissions import owns_provider
from marketplace.services._common import provider_signer

from .. import odrl
from ..errors import DataError, InvalidInput, NotAllowed, WrongState
from ..models import (
    Agreement,
    AgreementStatus,
    Dataset,
    DatasetStatus,
    Distribution,
    Offer,
    OfferStatus,
    PricingModel,
    Provenance,
    Quote,
    UsageKind,
    UsageRecord,
)
from ..permissions import can_manage_dataset
from ._common import dataset_signer, sha256_json

KIND_OFFER_CREATE = "marketplace.data.offer.create"
KIND_OFFER_WITHDRAW = "marketplace.data.offer.withdraw"
KIND_AGREEMENT_ACCEPT = "marketplace.data.agreement.accept"
KIND_AGREEMENT_REVOKE = "marketplace.data.agreement.revoke"
KIND_PROVENANCE = "marketplace.data.provenance.record"

MB = 1_000_000
QUOTE_VALIDITY = timedelta(hours=24)
MAX_PRICE_CENTS = 10**10
MAX_VOLUME = 10**15
# What one unit price buys, per pricing model (the `unitOfCount` of the compensate duty).
PRICE_UNIT = {
    PricingModel.PER_REQUEST: "smartb:request",
    PricingModel.PER_RECORD: "smartb:record",
    PricingModel.PER_MB: "smartb:megabyte",
    PricingModel.SUBSCRIPTION: "smartb:subscriptionPeriod",
}
USAGE_OF_PRICING = {
    PricingModel.PER_REQUEST: UsageKind.REQUEST,
    PricingModel.PER_RECORD: UsageKind.RECORDS,
    PricingModel.PER_MB: UsageKind.BYTES,
    PricingModel.SUBSCRIPTION: UsageKind.SUBSCRIPTION,
}


class OfferWithdrawn(DataError):
    code = "offer_withdrawn"
    status = 409
    default_message = gettext_lazy("This offer is withdrawn: it cannot be accepted.")


class QuoteExpired(DataError):
    code = "quote_expired"
    status = 409
    default_message = gettext_lazy("This quote has expired: ask for a new one.")


class AlreadyAccepted(DataError):
    code = "already_accepted"
    status = 409
    default_message = gettext_lazy("This quote was already accepted.")


# --- who signs for a dataset -------------------------------------------------------------------


def is_publisher(user: User, dataset: Dataset) -> bool:
    """The dataset's provider's owner, the member who published it, or the city's staff for
    the municipality's datasets (`permissions.can_manage_dataset`)."""
    return can_manage_dataset(user, dataset)


def _dataset_iri(dataset: Dataset) -> str:
    return f"urn:smartb:dataset:{dataset.public_id}"


def offer_uid(public_id: str) -> str:
    return f"urn:smartb:offer:{public_id}"


def agreement_uid(public_id: str) -> str:
    return f"urn:smartb:agreement:{public_id}"


# --- pricing -----------------------------------------------------------------------------------


def per_mb_cents(byte_count: int, price_per_mb_cents: int) -> int:
    """`byte_count` bytes at `price_per_mb_cents` per 10^6 bytes, rounded half up to the cent."""
    return (2 * byte_count * price_per_mb_cents + MB) // (2 * MB)


def volume_price(*, pricing_model: str, unit_price_cents: int, quantity: int) -> int:
    """The price of `quantity` units (requests, records, bytes or periods) of one model."""
    if pricing_model == PricingModel.FREE:
        return 0
    if pricing_model == PricingModel.PER_MB:
        return per_mb_cents(quantity, unit_price_cents)
    return quantity * unit_price_cents


def metered_amount(*, offer: Offer, kind: str, before: int, added: int) -> int:
    """What `added` units cost after `before` were used: price(after) − price(before)."""
    if USAGE_OF_PRICING.get(offer.pricing_model) != kind:
        return 0

    def price(quantity: int) -> int:
        return volume_price(
            pricing_model=offer.pricing_model,
            unit_price_cents=offer.unit_price_cents,
            quantity=quantity,
        )

    return price(before + added) - price(before)


def subscription_periods(offer: Offer) -> int:
    if offer.pricing_model != PricingModel.SUBSCRIPTION:
        return 0
    if not offer.duration_days:
        return 1
    return -(-offer.duration_days // offer.subscription_days)


def _line(kind: str, quantity: int, unit_price_cents: int, amount_cents: int) -> dict:
    return {
        "kind": kind,
        "quantity": quantity,
        "unit_price_cents": unit_price_cents,
        "amount_cents": amount_cents,
    }


def quote_lines(*, offer: Offer, requests: int, records: int, byte_count: int) -> list[dict]:
    """The lines of a quote: the data at the offer's price, and the transformation fee."""
    lines = []
    model = offer.pricing_model
    if model != PricingModel.FREE:
        quantity = {
            PricingModel.PER_REQUEST: requests,
            PricingModel.PER_RECORD: records,
            PricingModel.PER_MB: byte_count,
            PricingModel.SUBSCRIPTION: subscription_periods(offer),
        }[model]
        amount = volume_price(
            pricing_model=model, unit_price_cents=offer.unit_price_cents, quantity=quantity
        )
        lines.append(_line(USAGE_OF_PRICING[model], quantity, offer.unit_price_cents, amount))
    if offer.transformation_id is not None and offer.transformation_fee_cents:
        fee = offer.transformation_fee_cents
        lines.append(_line(UsageKind.TRANSFORMATION, requests, fee, requests * fee))
    return lines


# --- offers ------------------------------------------------------------------------------------


def _clean_price(value, what: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_PRICE_CENTS:
        raise InvalidInput(_("%(what)s is a whole number of cents, 0 or more.") % {"what": what})
    return value


def offer_document(offer: Offer) -> dict:
    """The offer as ODRL JSON-LD (what the producer signs the digest of)."""
    return offer.policy


def _compensate(offer: Offer) -> dict | None:
    if offer.pricing_model == PricingModel.FREE or not offer.unit_price_cents:
        return None
    return odrl.compensate_duty(
        pricing_model=offer.pricing_model,
        unit_price_cents=offer.unit_price_cents,
        unit=PRICE_UNIT.get(offer.pricing_model),
    )


def rules_of(document: dict) -> dict:
    """The validated rules inside an exported policy (its envelope and price duty removed)."""
    rules = {}
    for key in ("permission", "prohibition", "obligation"):
        items = []
        for rule in document.get(key, []):
            rule = {k: v for k, v in rule.items() if k not in ("target", "assigner", "assignee")}
            duties = [d for d in rule.get("duty", []) if d.get("action") != "compensate"]
            if "duty" in rule:
                rule["duty"] = duties
                if not duties:
                    del rule["duty"]
            items.append(rule)
        if items:
            rules[key] = items
    return odrl.policy_validate(rules)


def offer_limits(offer: Offer) -> odrl.PolicyLimits:
    return odrl.policy_limits(rules_of(offer.policy))


@transaction.atomic
def offer_create(
    *,
    dataset: Dataset,
    by: User,
    policy: dict,
    pricing_model: str,
    unit_price_cents: int = 0,
    subscription_days: int | None = None,
    transformation: ServiceVersion | None = None,
    transformation_fee_cents: int = 0,
    title: str = "",
) -> Offer:
    """Publish an offer on `dataset`: its ODRL rules (validated, `odrl.policy_validate`), its
    pricing, and the transformation service in the chain (an audited app-store version) with
    its fee per request. The limits the platform enforces (requests, records, bytes, days,
    purposes) come from the policy's constraints. The publisher's DID signs it on the city's
    chain with the digest of the offer's ODRL JSON-LD."""
    dataset = Dataset.objects.select_related(
        "city__chain", "publisher_provider__identity", "publisher_membership", "publisher_identity"
    ).get(pk=dataset.pk)
    if not is_publisher(by, dataset):
        raise NotAllowed(_("Only the dataset's publisher makes offers on it."))
    if dataset.status != DatasetStatus.PUBLISHED:
        raise WrongState(_("This dataset is withdrawn."))
    rules = odrl.policy_validate(policy)
    limits = odrl.policy_limits(rules)
    if pricing_model not in PricingModel.values:
        raise InvalidInput(_("Unknown pricing model."))
    unit_price_cents = _clean_price(unit_price_cents, _("The price"))
    transformation_fee_cents = _clean_price(transformation_fee_cents, _("The transformation fee"))
    if pricing_model == PricingModel.FREE and unit_price_cents:
        raise InvalidInput(_("A free offer has a price of 0."))
    if pricing_model != PricingModel.FREE and not unit_price_cents:
        raise InvalidInput(_("A paid offer has a price above 0: choose “free” otherwise."))
    if pricing_model == PricingModel.SUBSCRIPTION:
        if type(subscription_days) is not int or not 1 <= subscription_days <= 3660:
            raise InvalidInput(_("A subscription period is 1 to 3660 days."))
    else:
        subscription_days = None
    if transformation is None and transformation_fee_cents:
        raise InvalidInput(_("A transformation fee needs a transformation service."))
    if transformation is not None and transformation.status != "audited":
        raise InvalidInput(_("The transformation service must be an audited version."))
    title = (title or "").strip()
    if len(title) > 300:
        raise InvalidInput(_("The title is at most 300 characters."))
    signer = dataset_signer(dataset, by)
    offer = Offer(
        public_id=new_public_id(),
        dataset=dataset,
        producer=by,
        producer_identity=dataset.publisher_identity,
        title=title,
        pricing_model=pricing_model,
        unit_price_cents=unit_price_cents,
        subscription_days=subscription_days,
        transformation=transformation,
        transformation_fee_cents=transformation_fee_cents,
        duration_days=limits.duration_days,
        max_requests=limits.max_requests,
        max_records=limits.max_records,
        max_bytes=limits.max_bytes,
        purposes=limits.purposes,
    )
    offer.policy = odrl.policy_document(
        policy=rules,
        kind="Offer",
        uid=offer_uid(offer.public_id),
        target=_dataset_iri(dataset),
        assigner=dataset.publisher_identity.did,
        compensate=_compensate(offer),
    )
    offer.policy_digest = sha256_json(offer.policy)
    offer.entry = ledger_append(
        chain=dataset.city.chain,
        actor=signer,
        kind=KIND_OFFER_CREATE,
        payload={
            "offer": offer.public_id,
            "dataset": dataset.public_id,
            "policy_digest": offer.policy_digest,
            "pricing_model": pricing_model,
            "unit_price_cents": unit_price_cents,
            "transformation": transformation.public_id if transformation else None,
            "transformation_fee_cents": transformation_fee_cents,
        },
    )
    offer.save()
    return offer


@transaction.atomic
def offer_withdraw(*, offer: Offer, by: User) -> Offer:
    """Stop taking new agreements on `offer` (agreements made stay as they are)."""
    offer = Offer.objects.select_for_update(of=("self",)).select_related("dataset").get(pk=offer.pk)
    if not is_publisher(by, offer.dataset):
        raise NotAllowed(_("Only the dataset's publisher withdraws its offers."))
    if offer.status == OfferStatus.WITHDRAWN:
        return offer
    offer.status = OfferStatus.WITHDRAWN
    offer.save(update_fields=["status"])
    ledger_append(
        chain=offer.dataset.city.chain,
        actor=dataset_signer(offer.dataset, by),
        kind=KIND_OFFER_WITHDRAW,
        payload={"offer": offer.public_id, "dataset": offer.dataset.public_id},
    )
    return offer


# --- quotes ------------------------------------------------------------------------------------


def _volume(value, what: str, default: int) -> int:
    if value is None:
        return default
    if type(value) is not int or not 0 <= value <= MAX_VOLUME:
        raise InvalidInput(_("%(what)s is a whole number, 0 or more.") % {"what": what})
    return value


def _source(offer: Offer, distribution: Distribution | None) -> Distribution | None:
    """The distribution the quote prices: the one asked for (of the offer's dataset), else
    the latest version's first."""
    if distribution is not None:
        if distribution.version.dataset_id != offer.dataset_id:
            raise InvalidInput(_("This distribution is not one of the offer's dataset."))
        return distribution
    return (
        Distribution.objects.filter(version__dataset=offer.dataset)
        .order_by("-version__number", "pk")
        .first()
    )


@transaction.atomic
def quote_create(
    *,
    offer: Offer,
    consumer: User,
    requests: int | None = None,
    records: int | None = None,
    byte_count: int | None = None,
    distribution: Distribution | None = None,
    now: datetime | None = None,
) -> Quote:
    """Price `offer` for `consumer` before signing. The volume defaults to one request of
    the whole source distribution (its records and bytes); the transformation service in the
    chain adds its fee per request. Valid `QUOTE_VALIDITY`; kept with the agreement."""
    offer = Offer.objects.select_related("dataset", "transformation").get(pk=offer.pk)
    if offer.status != OfferStatus.ACTIVE:
        raise OfferWithdrawn()
    if not getattr(consumer, "is_authenticated", False):
        raise NotAllowed()
    source = _source(offer, distribution)
    requests = _volume(requests, _("The number of requests"), 1)
    if requests < 1:
        raise InvalidInput(_("A quote is for one request or more."))
    records = _volume(records, _("The number of records"), (source and source.record_count) or 0)
    byte_count = _volume(byte_count, _("The volume in bytes"), (source and source.byte_size) or 0)
    if offer.max_requests is not None and requests > offer.max_requests:
        raise InvalidInput(
            _("This offer allows at most %(n)s requests.") % {"n": offer.max_requests}
        )
    lines = quote_lines(offer=offer, requests=requests, records=records, byte_count=byte_count)
    now = now or timezone.now()
    inputs = {
        "requests": requests,
        "records": records,
        "bytes": byte_count,
        "source": source.public_id if source else None,
        "source_kind": source.kind if source else None,
        "transformation": offer.transformation.public_id if offer.transformation else None,
        "pricing_model": offer.pricing_model,
        "unit_price_cents": offer.unit_price_cents,
        "subscription_days": offer.subscription_days,
        "duration_days": offer.duration_days,
    }
    quote = Quote(
        public_id=new_public_id(),
        offer=offer,
        consumer=consumer,
        inputs=inputs,
        lines=lines,
        total_cents=sum(line["amount_cents"] for line in lines),
        expires_at=now + QUOTE_VALIDITY,
    )
    quote.digest = quote_digest(quote)
    quote.save()
    return quote


def quote_digest(quote: Quote) -> str:
    return sha256_json(
        {
            "quote": quote.public_id,
            "offer": quote.offer.public_id,
            "offer_digest": quote.offer.policy_digest,
            "inputs": quote.inputs,
            "lines": quote.lines,
            "total_cents": quote.total_cents,
        }
    )


# --- agreements --------------------------------------------------------------------------------


def agreement_id_for(quote: Quote) -> str:
    """An agreement's public id comes from its quote (one agreement per quote), so a
    self-custody consumer can sign the acceptance (its id, its policy's digest) before it
    exists."""
    digest = hashlib.sha256(f"agreement:{quote.public_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def consumer_signer_identity(*, consumer: User, provider: Provider | None) -> Identity:
    """The DID that signs for the consumer: its provider's, or the account's primary DID."""
    if provider is not None:
        if not owns_provider(consumer, provider):
            raise NotAllowed(_("You may only accept on behalf of a provider you own."))
        return provider.identity
    identity = consumer.primary_identity
    if identity is None:
        raise InvalidInput(_("Your account has no active DID."))
    return identity


def clean_purposes(offer: Offer, purposes) -> list[str]:
    """The consumer's purposes: tokens, among the offer's allowed purposes when it names some."""
    if purposes is None:
        purposes = []
    if not isinstance(purposes, list) or len(purposes) > 20:
        raise InvalidInput(_("Name up to twenty purposes."))
    limits = offer_limits(offer)
    for purpose in purposes:
        if not isinstance(purpose, str) or not odrl._TOKEN.match(purpose):
            raise InvalidInput(_("A purpose is an identifier such as urban-planning."))
        if limits.purposes and purpose not in limits.purposes:
            raise InvalidInput(
                _("The offer allows these purposes only: %(allowed)s")
                % {"allowed": ", ".join(limits.purposes)}
            )
        if purpose in limits.excluded_purposes:
            raise InvalidInput(_("The offer excludes the purpose %(p)s.") % {"p": purpose})
    if limits.purposes and not purposes:
        raise InvalidInput(
            _("Say which of the offer's purposes you pursue: %(allowed)s")
            % {"allowed": ", ".join(limits.purposes)}
        )
    return sorted(set(purposes))


def agreement_document(*, offer: Offer, public_id: str, consumer_did: str) -> dict:
    """The agreement as ODRL JSON-LD: the offer's rules, assigned to the consumer's DID."""
    return odrl.policy_document(
        policy=rules_of(offer.policy),
        kind="Agreement",
        uid=agreement_uid(public_id),
        target=_dataset_iri(offer.dataset),
        assigner=offer.producer_identity.did,
        assignee=consumer_did,
        compensate=_compensate(offer),
    )


def acceptance_payload(*, quote: Quote, consumer_did: str, purposes: list[str]) -> dict:
    """What the consumer signs: the agreement, offer and quote with their digests."""
    offer = quote.offer
    public_id = agreement_id_for(quote)
    document = agreement_document(offer=offer, public_id=public_id, consumer_did=consumer_did)
    return {
        "agreement": public_id,
        "offer": offer.public_id,
        "offer_digest": offer.policy_digest,
        "policy_digest": sha256_json(document),
        "quote": quote.public_id,
        "quote_digest": quote.digest,
        "dataset": offer.dataset.public_id,
        "producer": offer.producer_identity.did,
        "consumer": consumer_did,
        "total_cents": quote.total_cents,
        "purposes": purposes,
    }


def _check_quote(quote: Quote, consumer: User, now: datetime) -> None:
    if quote.consumer_id != consumer.pk:
        raise NotAllowed(_("This quote was made for another account."))
    if Agreement.objects.filter(quote=quote).exists():
        raise AlreadyAccepted()
    if quote.expires_at is not None and quote.expires_at <= now:
        raise QuoteExpired()
    if quote.offer.status != OfferStatus.ACTIVE:
        raise OfferWithdrawn()
    if quote.offer.dataset.status != DatasetStatus.PUBLISHED:
        raise WrongState(_("This dataset is withdrawn."))
    if is_publisher(consumer, quote.offer.dataset):
        raise NotAllowed(_("A publisher does not sign agreements on its own dataset."))


def _locked_quote(quote: Quote) -> Quote:
    return (
        Quote.objects.select_for_update(of=("self",))
        .select_related(
            "offer__dataset__city__chain",
            "offer__producer_identity",
            "offer__dataset__publisher_provider",
            "offer__dataset__publisher_membership",
        )
        .get(pk=quote.pk)
    )


@transaction.atomic
def agreement_accept(
    *,
    quote: Quote,
    consumer: User,
    purposes: list[str] | None = None,
    provider: Provider | None = None,
    processing: ServiceVersion | None = None,
    append: Callable[[], Transaction] | None = None,
    now: datetime | None = None,
) -> Agreement:
    """Accept `quote`: the `Agreement`, signed by the consumer's DID (its provider's when
    `provider` is given) on the city's chain with the policy's digest; the producer's
    signature is its offer's. `append` writes the transaction a self-custody consumer signed
    (`acceptance_payload`). On personal data the agreement waits for consents: each data
    subject gets a consent request naming `processing` (the consumer's service and its record
    of processing, if any). A subscription is metered for its periods at once."""
    from .consents import consents_request

    now = now or timezone.now()
    quote = _locked_quote(quote)
    offer = quote.offer
    _check_quote(quote, consumer, now)
    purposes = clean_purposes(offer, purposes)
    if processing is not None and (
        provider is None or processing.service.provider_id != provider.pk
    ):
        raise InvalidInput(_("The processing service must be one of your provider's."))
    limits = offer_limits(offer)
    ends_at = now + timedelta(days=offer.duration_days) if offer.duration_days else None
    if limits.not_after is not None and (ends_at is None or limits.not_after < ends_at):
        ends_at = limits.not_after
    if ends_at is not None and ends_at <= now:
        raise WrongState(_("This offer's period is over."))
    if limits.not_before is not None and limits.not_before > now:
        raise WrongState(_("This offer's period has not started yet."))
    identity = consumer_signer_identity(consumer=consumer, provider=provider)
    payload = acceptance_payload(quote=quote, consumer_did=identity.did, purposes=purposes)
    chain = offer.dataset.city.chain
    if append is not None:
        entry = append()
        if (
            entry.actor != identity.did
            or entry.kind != KIND_AGREEMENT_ACCEPT
            or entry.payload != payload
            or entry.chain_id != chain.pk
        ):
            raise NotAllowed(_("The signed transaction is not this acceptance by this consumer."))
    else:
        signer = provider_signer(provider) if provider else platform_signer(identity)
        entry = ledger_append(
            chain=chain, actor=signer, kind=KIND_AGREEMENT_ACCEPT, payload=payload
        )
    personal = offer.dataset.is_personal
    agreement = Agreement.objects.create(
        public_id=payload["agreement"],
        offer=offer,
        dataset=offer.dataset,
        consumer=consumer,
        consumer_identity=identity,
        consumer_provider=provider,
        producer_identity=offer.producer_identity,
        quote=quote,
        policy=agreement_document(
            offer=offer, public_id=payload["agreement"], consumer_did=identity.did
        ),
        policy_digest=payload["policy_digest"],
        purposes=purposes,
        status=AgreementStatus.PENDING_CONSENT if personal else AgreementStatus.ACTIVE,
        starts_at=now,
        ends_at=ends_at,
        max_requests=offer.max_requests,
        max_records=offer.max_records,
        max_bytes=offer.max_bytes,
        consumer_entry=entry,
        producer_entry=offer.entry,
    )
    periods = subscription_periods(offer)
    if periods:
        UsageRecord.objects.create(
            agreement=agreement,
            kind=UsageKind.SUBSCRIPTION,
            quantity=periods,
            amount_cents=periods * offer.unit_price_cents,
        )
    if personal:
        consents_request(agreement=agreement, processing=processing)
    return agreement


def can_revoke_agreement(user: User, agreement: Agreement) -> bool:
    """Either party ends an agreement: the consumer, or the dataset's publisher."""
    return agreement.consumer_id == user.pk or is_publisher(user, agreement.dataset)


@transaction.atomic
def agreement_revoke(*, agreement: Agreement, by: User, now: datetime | None = None) -> Agreement:
    """End `agreement` at once: the next data request is refused. Signed by the revoking
    party's DID; if the consumer received data, it is asked to purge its copy
    (`wallet.purges_request`)."""
    from .wallet import purges_request

    agreement = (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("dataset__city__chain", "consumer_identity", "consumer_provider")
        .get(pk=agreement.pk)
    )
    if not can_revoke_agreement(by, agreement):
        raise NotAllowed(_("Only the consumer or the dataset's publisher ends an agreement."))
    if agreement.status == AgreementStatus.REVOKED:
        return agreement
    if agreement.consumer_id == by.pk:
        signer = (
            provider_signer(agreement.consumer_provider)
            if agreement.consumer_provider_id
            else platform_signer(agreement.consumer_identity)
        )
    else:
        signer = dataset_signer(agreement.dataset, by)
    agreement.status = AgreementStatus.REVOKED
    agreement.revoked_at = now or timezone.now()
    agreement.revoked_entry = ledger_append(
        chain=agreement.dataset.city.chain,
        actor=signer,
        kind=KIND_AGREEMENT_REVOKE,
        payload={"agreement": agreement.public_id, "by": signer.did},
    )
    agreement.save(update_fields=["status", "revoked_at", "revoked_entry"])
    purges_request(agreement=agreement, consent=None)
    return agreement


# --- derived data ------------------------------------------------------------------------------

DERIVING_ACTIONS = {"derive", "aggregate", "transform", "use"}


@transaction.atomic
def provenance_record(*, dataset: Dataset, agreements: list[Agreement], by: User) -> list:
    """Record that `dataset` (published by `by`) was derived from data received under
    `agreements` (held by `by`, each permitting derive, aggregate, transform or use, none
    revoked). The derived dataset's publisher DID signs the list on its city's chain; the
    derived dataset then gets its own offers like any other."""
    dataset = Dataset.objects.select_related("city__chain").get(pk=dataset.pk)
    if not is_publisher(by, dataset):
        raise NotAllowed(_("Only the derived dataset's publisher records its provenance."))
    if not agreements or len(agreements) > 100:
        raise InvalidInput(_("Name one to a hundred agreements."))
    sources = list(
        Agreement.objects.select_related("offer", "dataset")
        .filter(pk__in=[a.pk for a in agreements])
        .order_by("pk")
    )
    if len(sources) != len({a.pk for a in agreements}):
        raise InvalidInput(_("Unknown agreement."))
    for agreement in sources:
        if agreement.consumer_id != by.pk:
            raise NotAllowed(_("You may only cite agreements you hold."))
        if agreement.dataset_id == dataset.pk:
            raise InvalidInput(_("A dataset is not derived from itself."))
        if agreement.status == AgreementStatus.REVOKED:
            raise WrongState(_("A revoked agreement cannot feed a derived dataset."))
        limits = offer_limits(agreement.offer)
        if not DERIVING_ACTIONS & set(limits.actions) or "derive" in limits.prohibited:
            raise NotAllowed(
                _("Agreement %(id)s does not permit deriving data.") % {"id": agreement.public_id}
            )
    known = set(Provenance.objects.filter(dataset=dataset).values_list("agreement_id", flat=True))
    fresh = [a for a in sources if a.pk not in known]
    if not fresh:
        return list(Provenance.objects.filter(dataset=dataset))
    entry = ledger_append(
        chain=dataset.city.chain,
        actor=dataset_signer(dataset, by),
        kind=KIND_PROVENANCE,
        payload={"dataset": dataset.public_id, "agreements": [a.public_id for a in fresh]},
    )
    Provenance.objects.bulk_create(
        [Provenance(dataset=dataset, agreement=a, entry=entry) for a in fresh]
    )
    return list(Provenance.objects.filter(dataset=dataset))


class AcceptOffer(SignedAction):
    """Accepting a quote as a signed action. `data`: the `quote` (loaded by the caller),
    `purposes`, and the `provider` the consumer accepts for (or None)."""

    kind = KIND_AGREEMENT_ACCEPT

    def _identity(self, user: User, data: dict) -> Identity:
        return consumer_signer_identity(consumer=user, provider=data.get("provider"))

    def chain_for(self, *, user: User, data: dict):
        return data["quote"].offer.dataset.city.chain

    def actor_did(self, *, user: User, data: dict) -> str:
        return self._identity(user, data).did

    def payload(self, *, user: User, data: dict) -> dict:
        quote = data["quote"]
        _check_quote(quote, user, timezone.now())
        purposes = clean_purposes(quote.offer, data.get("purposes"))
        return acceptance_payload(
            quote=quote, consumer_did=self._identity(user, data).did, purposes=purposes
        )

    def custodial_signer(self, *, user: User, data: dict):
        provider = data.get("provider")
        if provider is not None:
            return provider_signer(provider)
        return platform_signer(self._identity(user, data))

    def perform(self, *, user: User, data: dict, append) -> Agreement:
        return agreement_accept(
            quote=data["quote"],
            consumer=user,
            purposes=data.get("purposes"),
            provider=data.get("provider"),
            processing=data.get("processing"),
            append=append,
        )
