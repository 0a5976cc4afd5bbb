"""Metered access to data, only through an agreement, with a delivery receipt per request.

`delivery_open` is what `GET /api/v1/marketplace/agreements/{id}/data` runs. Under the
agreement's row lock (so concurrent requests queue and limits hold) it checks the agreement
(active, within its period, not revoked), reads the consents afresh (nothing is cached: a
withdrawal applies to the very next request), plans the delivery with the records of
residents who refused or withdrew left out, checks the request, record and byte limits, counts
the usage, meters it for billing and writes the delivery receipt: the agreement, the range of
records, the bytes and records sent and the SHA-256 of exactly those bytes, recorded by the
platform's validator on the city's chain. After commit the response streams the same
selection, decrypting on the fly (part 1's reader, `storage.distribution_open`).

A hosted file is decrypted once per delivery. A small one (up to
`SMARTB_DATA_DELIVERY_MEMORY_BYTES`, 1 MiB) is decrypted into memory, measured and streamed
from there. A larger one is not held: the receipt's figures come from what was measured
before, as a version's file never changes in place. Sent whole and unchanged, its figures are
the distribution's own size and SHA-256 (measured when it was stored); any other selection
(the records of the consenting subjects, a range, records counted) has a `DeliveryFigures`
row, measured on its first delivery (that delivery alone reads the file twice) and kept. Before
anything is counted the file is opened and its first chunk decrypted and authenticated, so a
missing file, a data key that does not open or a tampered first chunk fails closed with
nothing counted; the stream goes on from that same reader. Every chunk is authenticated
before use, and the last piece is held back until the bytes' SHA-256 matches the receipt's:
bytes that differ never make a complete response (and kept figures that proved wrong are
dropped, to be measured afresh). A remote file is fetched twice (measured, then streamed): the
producer's server may change it.

A consumer may acknowledge a receipt with its DID's signature (custodial, or prepare → sign →
submit: `AcknowledgeDelivery`). This is a delivery receipt, signed by both sides: not a
proof of anything beyond what was sent and received.

Ranges: `start` and `end` count the records this consumer may see (after leaving out refused
subjects), from 0, `end` excluded; a CSV header is always sent. Ranges apply to CSV and JSON
Lines; any other format is sent whole.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.actions import platform_signer
from identity.models import User
from identity.signed_actions import SignedAction
from ledger.models import Transaction
from ledger.services import actor_register, ledger_append
from ledger.signing import platform_validator
from marketplace.services._common import provider_signer
from smartb.outbox import outbox_enqueue

from ..crypto import CHUNK_BYTES, TamperedData
from ..errors import DataError, InvalidInput, NotAllowed, StoredDataCorrupt
from ..models import (
    Agreement,
    AgreementStatus,
    Delivery,
    DeliveryFigures,
    Distribution,
    DistributionKind,
    PricingModel,
    UsageKind,
    UsageRecord,
)
from ..records import CSV_MEDIA_TYPES, JSON_LINES_MEDIA_TYPES, RECORD_MEDIA_TYPES, text_lines
from ..storage import distribution_open
from ._common import setting_int
from .consents import consented_dids
from .contracts import metered_amount

KIND_DELIVERY = "marketplace.data.delivery"
KIND_DELIVERY_ACK = "marketplace.data.delivery.acknowledge"
REMOTE_PIECE_BYTES = 64 * 1024
REMOTE_TIMEOUT_SECONDS = 30


class AgreementNotFound(DataError):
    code = "not_found"
    status = 404
    default_message = gettext_lazy("No such agreement.")


class AgreementRevoked(DataError):
    code = "agreement_revoked"
    status = 403
    default_message = gettext_lazy("This agreement was revoked: no more data flows under it.")


class AgreementExpired(DataError):
    code = "agreement_expired"
    status = 403
    default_message = gettext_lazy("This agreement has expired: no more data flows under it.")


class AgreementNotStarted(DataError):
    code = "agreement_not_started"
    status = 409
    default_message = gettext_lazy("This agreement's period has not started yet.")


class NotConsented(DataError):
    code = "not_consented"
    status = 409
    default_message = gettext_lazy(
        "No data subject has consented to this agreement (yet): there is nothing to deliver."
    )


class OverLimit(DataError):
    code = "over_limit"
    status = 409
    default_message = gettext_lazy("This request goes beyond the agreement's limits.")


class RemoteUnavailable(DataError):
    code = "remote_unavailable"
    status = 409
    default_message = gettext_lazy(
        "The producer's server did not deliver the file as declared: try again later."
    )


# --- reading and selecting records ---------------------------------------------------------


class _Tap:
    """Lines handed to the csv reader, kept until taken: the raw text of each record, so a
    delivered record is byte for byte the stored one (quoted newlines included)."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self._taken: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._taken.append(line)
        return line

    def take(self) -> str:
        raw = "".join(self._taken)
        self._taken.clear()
        return raw


def _in_range(number: int, start: int, end: int | None) -> bool:
    return number >= start and (end is None or number < end)


def _csv_selection(pieces, *, field, allowed, start, end) -> Iterator[tuple[bytes, int]]:
    tap = _Tap(text_lines(pieces))
    reader = csv.reader(tap)
    try:
        header = next(reader)
    except StopIteration:
        return
    yield tap.take().encode(), 0
    position = header.index(field) if field in header else None
    number = 0
    for row in reader:
        raw = tap.take()
        if not row:
            continue
        if allowed is not None:
            subject = row[position] if position is not None and position < len(row) else None
            if subject not in allowed:
                continue
        if _in_range(number, start, end):
            yield raw.encode(), 1
        number += 1
        if end is not None and number >= end:
            return


def _json_lines_selection(pieces, *, field, allowed, start, end) -> Iterator[tuple[bytes, int]]:
    number = 0
    for line in text_lines(pieces):
        if not line.strip():
            continue
        if allowed is not None:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            subject = record.get(field) if isinstance(record, dict) else None
            if subject not in allowed:
                continue
        if _in_range(number, start, end):
            yield line.encode(), 1
        number += 1
        if end is not None and number >= end:
            return


def selection(
    pieces: Iterable[bytes],
    *,
    media_type: str,
    field: str,
    allowed: frozenset[str] | None,
    start: int = 0,
    end: int | None = None,
    count_records: bool = True,
) -> Iterator[tuple[bytes, int]]:
    """(bytes, records) pieces of what a delivery sends: the records of `allowed` subjects
    only (None: every record) in the range `start`–`end`. A whole file that needs no
    selection passes through unchanged (records counted if `count_records`)."""
    ranged = start > 0 or end is not None
    if media_type in CSV_MEDIA_TYPES and (allowed is not None or ranged or count_records):
        yield from _csv_selection(
            pieces, field=field or "subject", allowed=allowed, start=start, end=end
        )
    elif media_type in JSON_LINES_MEDIA_TYPES and (allowed is not None or ranged or count_records):
        yield from _json_lines_selection(
            pieces, field=field or "subject", allowed=allowed, start=start, end=end
        )
    else:
        for piece in pieces:
            yield piece, 0


def _remote_pieces(distribution: Distribution) -> Iterator[bytes]:
    """The producer's file, fetched through the platform (the consumer never sees its URL)."""
    limit = setting_int("SMARTB_DATA_MAX_UPLOAD_BYTES", 2 * 1024**3)
    received = 0
    try:
        with urllib.request.urlopen(  # noqa: S310 - http(s) only, checked on input
            distribution.access_url, timeout=REMOTE_TIMEOUT_SECONDS
        ) as response:
            while piece := response.read(REMOTE_PIECE_BYTES):
                received += len(piece)
                if received > limit:
                    raise RemoteUnavailable()
                yield piece
    except OSError:
        raise RemoteUnavailable() from None


def plaintext(distribution: Distribution) -> Iterator[bytes]:
    """The distribution's bytes: hosted ones decrypted on the fly, remote ones fetched."""
    if distribution.kind == DistributionKind.HOSTED:
        return distribution_open(distribution)
    return _remote_pieces(distribution)


# --- the plan and the checks -------------------------------------------------------------------


@dataclass
class Plan:
    distribution: Distribution
    allowed: frozenset[str] | None
    start: int
    end: int | None
    count_records: bool
    byte_count: int = 0
    records: int = 0
    sha256: str = ""
    # The plaintext already read: all of a small file (a list, read again by the stream), or
    # the reader `_prime` opened (an iterator, used once); else `pieces` opens the file.
    held: list[bytes] | Iterator[bytes] | None = None
    # The kept figures this plan's receipt was written from, if any.
    figures: DeliveryFigures | None = None

    @property
    def passes_through(self) -> bool:
        """The file is sent whole and unchanged: `selection` hands its bytes on as they are."""
        if self.allowed is not None or self.start > 0 or self.end is not None:
            return False
        return not (self.count_records and self.distribution.media_type in RECORD_MEDIA_TYPES)

    def pieces(self) -> Iterator[tuple[bytes, int]]:
        source = self.held
        if not isinstance(source, list):
            self.held = None
        return selection(
            source if source is not None else plaintext(self.distribution),
            media_type=self.distribution.media_type,
            field=self.distribution.subject_field,
            allowed=self.allowed,
            start=self.start,
            end=self.end,
            count_records=self.count_records,
        )


def _measure(plan: Plan) -> Plan:
    digest = hashlib.sha256()
    try:
        for piece, records in plan.pieces():
            digest.update(piece)
            plan.byte_count += len(piece)
            plan.records += records
    except TamperedData:
        raise StoredDataCorrupt() from None
    except csv.Error:
        raise StoredDataCorrupt(_("The stored file cannot be read as CSV.")) from None
    except InvalidInput:
        raise StoredDataCorrupt(_("The stored file is not UTF-8 text.")) from None
    distribution = plan.distribution
    whole = plan.allowed is None and plan.start == 0 and plan.end is None
    if whole and distribution.sha256 and digest.hexdigest() != distribution.sha256:
        if distribution.kind == DistributionKind.HOSTED:
            raise StoredDataCorrupt()
        raise RemoteUnavailable()
    plan.sha256 = digest.hexdigest()
    return plan


def _variant(plan: Plan) -> str:
    """The key of what `plan` delivers (see `DeliveryFigures`)."""
    distribution = plan.distribution
    key = {
        "source": distribution.sha256,
        "path": distribution.storage_path,
        "allowed": sorted(plan.allowed) if plan.allowed is not None else None,
        "start": plan.start,
        "end": plan.end,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _known_figures(plan: Plan) -> bool:
    """Fill `plan`'s figures from what was measured before, without reading the file; False
    when they are not known (a remote file, or a selection never delivered yet)."""
    distribution = plan.distribution
    if distribution.kind != DistributionKind.HOSTED:
        return False
    if plan.passes_through:
        plan.byte_count, plan.records, plan.sha256 = distribution.byte_size, 0, distribution.sha256
        return True
    figures = DeliveryFigures.objects.filter(
        distribution=distribution, variant=_variant(plan)
    ).first()
    if figures is None:
        return False
    plan.byte_count, plan.records, plan.sha256 = figures.bytes, figures.records, figures.sha256
    plan.figures = figures
    return True


def _keep_figures(plan: Plan) -> None:
    """Keep a hosted selection's measured figures for its next deliveries. Two first
    deliveries at once (under two agreements) insert the same row: the unique key lets one
    in and the other reads it (`get_or_create` retries the read in a savepoint)."""
    if plan.distribution.kind != DistributionKind.HOSTED or plan.passes_through:
        return
    plan.figures, _created = DeliveryFigures.objects.get_or_create(
        distribution=plan.distribution,
        variant=_variant(plan),
        defaults={"bytes": plan.byte_count, "records": plan.records, "sha256": plan.sha256},
    )


def _prime(plan: Plan) -> None:
    """Open the hosted file and decrypt its first chunk now, inside the transaction: a missing
    file, a data key that does not open or a tampered first chunk fails closed before anything
    is counted. The delivery streams on from this reader: the file is read once."""
    reader = plaintext(plan.distribution)
    try:
        first = next(reader, None)
    except TamperedData:
        raise StoredDataCorrupt() from None
    plan.held = reader if first is None else itertools.chain([first], reader)


def _is_small(distribution: Distribution) -> bool:
    return distribution.kind == DistributionKind.HOSTED and distribution.byte_size <= setting_int(
        "SMARTB_DATA_DELIVERY_MEMORY_BYTES", CHUNK_BYTES
    )


def _read_small(plan: Plan) -> None:
    """All of a small hosted file's plaintext, decrypted (and authenticated) once, kept in
    memory for both the measure and the stream: cheaper than looking its figures up."""
    try:
        plan.held = list(plaintext(plan.distribution))
    except TamperedData:
        raise StoredDataCorrupt() from None


def _figure(plan: Plan) -> bool:
    """Fill `plan`'s bytes, records and SHA-256, reading the file at most once in all (but on
    a selection's first delivery). True when the file is still to be opened (`_prime`)."""
    if _is_small(plan.distribution):
        _read_small(plan)
        _measure(plan)
        return False
    if _known_figures(plan):
        return True
    _measure(plan)
    _keep_figures(plan)
    return False


def agreement_get_for_consumer(*, public_id: str, user: User) -> Agreement:
    """The agreement, if `user` is its consumer; "missing" and "not yours" look the same."""
    agreement = (
        Agreement.objects.select_related("dataset__city", "offer")
        .filter(public_id=public_id)
        .first()
    )
    if agreement is None or not getattr(user, "is_authenticated", False):
        raise AgreementNotFound()
    if agreement.consumer_id != user.pk:
        raise AgreementNotFound()
    return agreement


def delivery_source(agreement: Agreement, public_id: str | None = None) -> Distribution:
    """The distribution asked for (of the agreement's dataset), else the latest version's
    first (a hosted one before a remote one)."""
    found = Distribution.objects.select_related("version").filter(
        version__dataset_id=agreement.dataset_id
    )
    if public_id:
        distribution = found.filter(public_id=public_id).first()
    else:
        distribution = found.order_by("-version__number", "kind", "pk").first()
    if distribution is None:
        raise InvalidInput(_("This dataset has no such file."))
    return distribution


def refusal(agreement: Agreement, now: datetime) -> DataError | None:
    """Why no data may flow under `agreement` now, or None."""
    if agreement.status == AgreementStatus.REVOKED:
        return AgreementRevoked()
    if agreement.status == AgreementStatus.EXPIRED or (
        agreement.ends_at is not None and agreement.ends_at <= now
    ):
        return AgreementExpired()
    if agreement.starts_at > now:
        return AgreementNotStarted()
    if agreement.status == AgreementStatus.PENDING_CONSENT:
        return NotConsented()
    return None


def _check_limits(agreement: Agreement, plan: Plan) -> None:
    if agreement.max_requests is not None and agreement.requests_used + 1 > agreement.max_requests:
        raise OverLimit(
            _("This agreement allows %(n)s requests, all used.") % {"n": agreement.max_requests}
        )
    if agreement.max_records is not None and (
        agreement.records_used + plan.records > agreement.max_records
    ):
        raise OverLimit(
            _(
                "This request holds %(asked)s records and %(left)s remain under the agreement: "
                "ask a smaller range (start, end)."
            )
            % {"asked": plan.records, "left": agreement.max_records - agreement.records_used}
        )
    if agreement.max_bytes is not None and agreement.bytes_used + plan.byte_count > (
        agreement.max_bytes
    ):
        raise OverLimit(
            _(
                "This request is %(asked)s bytes and %(left)s remain under the agreement: "
                "ask a smaller range (start, end)."
            )
            % {"asked": plan.byte_count, "left": agreement.max_bytes - agreement.bytes_used}
        )


def _meter(agreement: Agreement, delivery: Delivery, plan: Plan) -> None:
    """Usage records of one delivery: the data at the offer's price (telescoped), and the
    transformation service's fee."""
    offer = agreement.offer
    kind, before, added = {
        PricingModel.PER_RECORD: (UsageKind.RECORDS, agreement.records_used, plan.records),
        PricingModel.PER_MB: (UsageKind.BYTES, agreement.bytes_used, plan.byte_count),
    }.get(offer.pricing_model, (UsageKind.REQUEST, agreement.requests_used, 1))
    UsageRecord.objects.create(
        agreement=agreement,
        delivery=delivery,
        kind=kind,
        quantity=added,
        amount_cents=metered_amount(offer=offer, kind=kind, before=before, added=added),
    )
    if offer.transformation_id is not None and offer.transformation_fee_cents:
        UsageRecord.objects.create(
            agreement=agreement,
            kind=UsageKind.TRANSFORMATION,
            quantity=1,
            amount_cents=offer.transformation_fee_cents,
        )


def _clean_range(start, end, distribution: Distribution) -> tuple[int, int | None]:
    if type(start) is not int or start < 0 or (end is not None and (type(end) is not int)):
        raise InvalidInput(_("A range is two whole numbers, start ≥ 0 and end > start."))
    if end is not None and end <= start:
        raise InvalidInput(_("A range is two whole numbers, start ≥ 0 and end > start."))
    if (start or end is not None) and distribution.media_type not in RECORD_MEDIA_TYPES:
        raise InvalidInput(_("Ranges of records apply to CSV and JSON Lines files only."))
    return start, end


# --- the delivery ------------------------------------------------------------------------------


@dataclass
class DeliveryStream:
    """A delivery recorded and counted, ready to stream."""

    delivery: Delivery
    plan: Plan

    @property
    def media_type(self) -> str:
        return self.plan.distribution.media_type

    def __iter__(self) -> Iterator[bytes]:
        digest = hashlib.sha256()
        sent = 0
        held = None
        for piece, _records in self.plan.pieces():
            if held is not None:
                yield held
            digest.update(piece)
            sent += len(piece)
            held = piece
        if digest.hexdigest() != self.plan.sha256 or sent != self.plan.byte_count:
            # The receipt says what was meant to leave; bytes that differ must not complete:
            # the last piece stays here, and figures that proved wrong are measured afresh.
            if self.plan.figures is not None:
                DeliveryFigures.objects.filter(pk=self.plan.figures.pk).delete()
            raise TamperedData("the bytes sent differ from the delivery receipt")
        if held is not None:
            yield held


def delivery_open(
    *,
    agreement: Agreement,
    user: User,
    distribution: str | None = None,
    start: int = 0,
    end: int | None = None,
    now: datetime | None = None,
) -> DeliveryStream:
    """Check, count, meter and record one data request under `agreement` by its consumer;
    return what to stream. Refusals: 404 not the consumer's, 403 revoked or expired, 409 not
    consented, over a limit, not started, or the stored file does not decrypt."""
    from ..tasks import issue_invoice
    from .billing import threshold_reached

    now = now or timezone.now()
    if agreement.consumer_id != user.pk:
        raise AgreementNotFound()
    refused = None
    with transaction.atomic():
        agreement = (
            Agreement.objects.select_for_update(of=("self",))
            .select_related("offer", "dataset__city__chain", "consumer_identity")
            .get(pk=agreement.pk)
        )
        refused = refusal(agreement, now)
        if isinstance(refused, AgreementExpired) and agreement.status != AgreementStatus.EXPIRED:
            agreement.status = AgreementStatus.EXPIRED
            agreement.save(update_fields=["status"])
        if refused is None:
            source = delivery_source(agreement, distribution)
            start, end = _clean_range(start, end, source)
            allowed = None
            if agreement.dataset.is_personal:
                allowed = frozenset(consented_dids(agreement))
                if not allowed:
                    raise NotConsented()
            offer = agreement.offer
            count_records = (
                offer.pricing_model == PricingModel.PER_RECORD or agreement.max_records is not None
            )
            plan = Plan(
                distribution=source,
                allowed=allowed,
                start=start,
                end=end,
                count_records=count_records,
            )
            to_open = _figure(plan)
            _check_limits(agreement, plan)
            if to_open:
                _prime(plan)
            delivery = _record(agreement, plan, now)
            if threshold_reached(agreement):
                outbox_enqueue(issue_invoice, agreement.pk)
    if refused is not None:
        raise refused
    return DeliveryStream(delivery=delivery, plan=plan)


def _record(agreement: Agreement, plan: Plan, now: datetime) -> Delivery:
    validator = platform_validator()
    actor_register(did=validator.did)
    delivery = Delivery(
        agreement=agreement,
        distribution=plan.distribution,
        range_start=plan.start,
        range_end=plan.end if plan.end is not None else plan.start + plan.records,
        bytes_sent=plan.byte_count,
        records_sent=plan.records,
        sha256=plan.sha256,
    )
    delivery.entry = ledger_append(
        chain=agreement.dataset.city.chain,
        actor=validator,
        kind=KIND_DELIVERY,
        payload={
            "delivery": delivery.public_id,
            "agreement": agreement.public_id,
            "distribution": plan.distribution.public_id,
            "consumer": agreement.consumer_identity.did,
            "range_start": delivery.range_start,
            "range_end": delivery.range_end,
            "bytes": plan.byte_count,
            "records": plan.records,
            "sha256": plan.sha256,
        },
    )
    delivery.save()
    _meter(agreement, delivery, plan)
    agreement.requests_used += 1
    agreement.records_used += plan.records
    agreement.bytes_used += plan.byte_count
    agreement.last_access_at = now
    agreement.save(update_fields=["requests_used", "records_used", "bytes_used", "last_access_at"])
    return delivery


# --- acknowledgement ---------------------------------------------------------------------------


def delivery_get_for_consumer(*, agreement: Agreement, public_id: str) -> Delivery:
    delivery = (
        Delivery.objects.select_related("agreement", "distribution", "entry__chain")
        .filter(agreement=agreement, public_id=public_id)
        .first()
    )
    if delivery is None:
        raise AgreementNotFound(_("No such delivery."))
    return delivery


def ack_payload(delivery: Delivery) -> dict:
    return {
        "delivery": delivery.public_id,
        "agreement": delivery.agreement.public_id,
        "sha256": delivery.sha256,
        "receipt_tx": delivery.entry.tx_hash if delivery.entry else None,
    }


def _consumer_custodial(agreement: Agreement):
    if agreement.consumer_provider_id:
        return provider_signer(agreement.consumer_provider)
    return platform_signer(agreement.consumer_identity)


@transaction.atomic
def delivery_acknowledge(
    *,
    delivery: Delivery,
    user: User,
    append: Callable[[], Transaction] | None = None,
    now: datetime | None = None,
) -> Delivery:
    """The consumer acknowledges receiving exactly what the receipt describes, signed by
    the DID that signed the agreement (`ack_payload`). Twice changes nothing."""
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related(
            "agreement__dataset__city__chain",
            "agreement__consumer_identity",
            "agreement__consumer_provider",
            "entry",
        )
        .get(pk=delivery.pk)
    )
    agreement = delivery.agreement
    if agreement.consumer_id != user.pk:
        raise AgreementNotFound()
    if delivery.acknowledged_at is not None:
        return delivery
    payload = ack_payload(delivery)
    chain = agreement.dataset.city.chain
    if append is not None:
        entry = append()
        if (
            entry.actor != agreement.consumer_identity.did
            or entry.kind != KIND_DELIVERY_ACK
            or entry.payload != payload
            or entry.chain_id != chain.pk
        ):
            raise NotAllowed(_("The signed transaction is not this acknowledgement."))
    else:
        entry = ledger_append(
            chain=chain,
            actor=_consumer_custodial(agreement),
            kind=KIND_DELIVERY_ACK,
            payload=payload,
        )
    delivery.acknowledged_at = now or timezone.now()
    delivery.ack_signature = entry.signature
    delivery.ack_entry = entry
    delivery.save(update_fields=["acknowledged_at", "ack_signature", "ack_entry"])
    return delivery


class AcknowledgeDelivery(SignedAction):
    """`data`: the `delivery` (already checked to be under the caller's agreement)."""

    kind = KIND_DELIVERY_ACK

    def chain_for(self, *, user: User, data: dict):
        return data["delivery"].agreement.dataset.city.chain

    def actor_did(self, *, user: User, data: dict) -> str:
        return data["delivery"].agreement.consumer_identity.did

    def payload(self, *, user: User, data: dict) -> dict:
        return ack_payload(data["delivery"])

    def custodial_signer(self, *, user: User, data: dict):
        return _consumer_custodial(data["delivery"].agreement)

    def perform(self, *, user: User, data: dict, append) -> Delivery:
        return delivery_acknowledge(delivery=data["delivery"], user=user, append=append)
