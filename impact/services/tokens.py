"""Tokens: issuing a batch with its serial range, transferring and retiring.

Every spend locks the spending portfolio's row first (`SELECT ... FOR UPDATE`), then its
holdings, then (through `ledger_append`) the chain head: concurrent spends of one portfolio
queue, so none can spend the same serials twice or go below zero, and a retired range can
never move again. Holdings are taken oldest first (vintage, batch number, first serial); a
partial spend splits a range: the first serials leave, the rest stay.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from governance.models import CollegeKind, MembershipStatus
from identity.models import Credential, Identity, User
from ledger.models import Transaction

from ..errors import AlreadyIssued, InsufficientTokens, InvalidInput, NotAllowed
from ..models import (
    Batch,
    Claim,
    Holding,
    HoldingState,
    Portfolio,
    Retirement,
    RetireReason,
    SerialCounter,
    TokenClass,
    Transfer,
)
from ._common import (
    DID,
    city_portfolio,
    clean_text,
    portfolio_for,
    positive_int,
    record,
    sha256_text,
)
from .rollup import rollup_tokens_issued, rollup_tokens_moved

# --- issuing ------------------------------------------------------------------------------


def _counter(claim: Claim, vintage: int) -> SerialCounter:
    key = {"city_id": claim.city_id, "token_class_id": claim.token_class_id, "vintage": vintage}
    if not SerialCounter.objects.filter(**key).exists():
        try:
            with transaction.atomic():
                SerialCounter.objects.create(**key)
        except IntegrityError:
            pass  # a concurrent issue created it: lock it below
    return SerialCounter.objects.select_for_update().get(**key)


def holder_of(claim: Claim) -> Portfolio:
    """Where a claim's tokens go: the claimant's portfolio; the city's own portfolio when
    the claimant is municipality staff (the municipality's impact is the city's)."""
    if claim.claimant.college.kind == CollegeKind.MUNICIPALITY:
        return city_portfolio(claim.city)
    return portfolio_for(city=claim.city, user=claim.claimant.user)


def batch_issue(*, claim: Claim, credential: Credential) -> Batch:
    """Issue the approved `claim`'s quantity as one batch: the next serials of (city, class,
    vintage = the year the claim's period ends), from the locked counter, to the holder's
    portfolio; recorded on the city's chain, signed by the city's DID. Runs inside the
    approval's transaction; a second issue for the same claim is refused (and the database
    refuses it too: one batch per claim, unique numbers and range ends)."""
    if Batch.objects.filter(claim=claim).exists():
        raise AlreadyIssued()
    vintage = claim.period_end.year
    counter = _counter(claim, vintage)
    portfolio = holder_of(claim)
    first = counter.next_serial
    batch = Batch(
        city=claim.city,
        token_class=claim.token_class,
        vintage=vintage,
        number=counter.next_batch,
        first_serial=first,
        last_serial=first + claim.quantity - 1,
        quantity=claim.quantity,
        claim=claim,
        portfolio=portfolio,
        credential=credential,
    )
    counter.next_serial = batch.last_serial + 1
    counter.next_batch += 1
    counter.save(update_fields=["next_serial", "next_batch"])
    city = claim.city
    batch.entry = record(
        chain=city.chain,
        actor=city.identity,
        kind="impact.batch.issue",
        payload={
            "batch": batch.public_id,
            "claim": claim.public_id,
            "city": city.slug,
            "token_class": claim.token_class.code,
            "vintage": vintage,
            "number": batch.number,
            "first": batch.first_serial,
            "last": batch.last_serial,
            "quantity": batch.quantity,
            "portfolio": portfolio.public_id,
            "holder": portfolio.identity.did,
            "credential": credential.digest,
        },
    )
    try:
        with transaction.atomic():
            batch.save()
    except IntegrityError as error:
        raise AlreadyIssued() from error
    Holding.objects.create(
        portfolio=portfolio,
        batch=batch,
        token_class=batch.token_class,
        first_serial=batch.first_serial,
        last_serial=batch.last_serial,
        quantity=batch.quantity,
    )
    rollup_tokens_issued(batch=batch)
    if portfolio.accepts_forward_orders:
        from .market import forward_orders_fill

        forward_orders_fill(batch=batch)
    return batch


# --- taking holdings ----------------------------------------------------------------------


@dataclass(frozen=True)
class Take:
    holding: Holding
    quantity: int

    @property
    def range(self) -> list:
        first = self.holding.first_serial
        return [self.holding.batch.public_id, first, first + self.quantity - 1]


def _holdings(portfolio: Portfolio, token_class: TokenClass, *, state: str, offer=None, batch=None):
    holdings = Holding.objects.filter(portfolio=portfolio, token_class=token_class, state=state)
    if offer is not None:
        holdings = holdings.filter(offer=offer)
    if batch is not None:
        holdings = holdings.filter(batch=batch)
    return holdings.select_related("batch").order_by(
        "batch__vintage", "batch__number", "first_serial"
    )


def plan_takes(
    portfolio: Portfolio,
    token_class: TokenClass,
    quantity: int,
    *,
    state: str = HoldingState.AVAILABLE,
    offer=None,
    batch=None,
    lock: bool = True,
) -> list[Take]:
    """Which serials `quantity` units of `token_class` would come from, oldest first.
    Raises InsufficientTokens when the portfolio holds fewer in `state`."""
    holdings = _holdings(portfolio, token_class, state=state, offer=offer, batch=batch)
    if lock:
        holdings = holdings.select_for_update(of=("self",))
    takes, left = [], quantity
    for holding in holdings:
        if left == 0:
            break
        take = min(left, holding.quantity)
        takes.append(Take(holding, take))
        left -= take
    if left:
        raise InsufficientTokens()
    return takes


def serial_ranges(takes: list[Take]) -> list[list]:
    return [take.range for take in takes]


def move(
    takes: list[Take],
    *,
    to: Portfolio,
    state: str = HoldingState.AVAILABLE,
    offer=None,
    retirement=None,
    redemption=None,
) -> None:
    """Give the taken serials to `to` in `state`: a whole holding changes hands, a partial
    one is split (its first serials leave). Units changing state are counted in the
    dashboard's roll-up."""
    fields = {
        "portfolio": to,
        "state": state,
        "offer": offer,
        "retirement": retirement,
        "redemption": redemption,
    }
    moves: dict[tuple[int, int, str, str], int] = defaultdict(int)
    for take in takes:
        holding = take.holding
        key = (holding.batch.city_id, holding.token_class_id, holding.state, state)
        moves[key] += take.quantity
        if take.quantity == holding.quantity:
            for name, value in fields.items():
                setattr(holding, name, value)
            holding.save(update_fields=[*fields, "updated_at"])
            continue
        first = holding.first_serial
        holding.first_serial = first + take.quantity
        holding.quantity -= take.quantity
        holding.save(update_fields=["first_serial", "quantity", "updated_at"])
        Holding.objects.create(
            batch=holding.batch,
            token_class=holding.token_class,
            first_serial=first,
            last_serial=first + take.quantity - 1,
            quantity=take.quantity,
            **fields,
        )
    rollup_tokens_moved(moves=moves)


def lock_portfolio(portfolio: Portfolio) -> Portfolio:
    """Lock a portfolio for a change of its holdings. FOR NO KEY UPDATE, not FOR UPDATE: rows
    inserted by another transfer point at this portfolio (recipient), and their foreign-key
    check takes FOR KEY SHARE, which FOR UPDATE would block: two members sending to each other
    at once deadlocked (measured by bench/impact.py: 7 % of transfers answered 500)."""
    return (
        Portfolio.objects.select_for_update(of=("self",), no_key=True)
        .select_related("city__chain", "identity")
        .get(pk=portfolio.pk)
    )


def _owned(portfolio: Portfolio, by: User) -> None:
    if portfolio.user_id != by.pk:
        raise NotAllowed(_("This portfolio is not yours."))


# --- transfers ----------------------------------------------------------------------------


def transfer_payload(
    *,
    sender: Portfolio,
    recipient: Portfolio,
    token_class: TokenClass,
    quantity: int,
    serials: list,
    purpose: str,
) -> dict:
    return {
        "city": sender.city.slug,
        "from": sender.public_id,
        "to": recipient.public_id,
        "token_class": token_class.code,
        "quantity": quantity,
        "serials": serials,
        "purpose": purpose,
    }


def _recipient_ok(recipient: Portfolio, sender: Portfolio) -> None:
    if recipient.city_id != sender.city_id:
        raise InvalidInput(_("Tokens move between portfolios of the same city."))
    if recipient.pk == sender.pk:
        raise InvalidInput(_("A portfolio does not send tokens to itself."))
    is_city = recipient.user_id == recipient.city.identity.user_id
    member = recipient.user.memberships.filter(
        city_id=recipient.city_id, status=MembershipStatus.APPROVED
    ).exists()
    if not (is_city or member):
        raise InvalidInput(_("The recipient is not a member of this city."))


def transfer_execute(
    *,
    sender: Portfolio,
    recipient: Portfolio,
    token_class: TokenClass,
    quantity: int,
    actor: Identity,
    purpose: str = "transfer",
    batch: Batch | None = None,
    append: Callable[[], Transaction] | None = None,
    takes: list[Take] | None = None,
) -> Transfer:
    """Move `quantity` from a sender portfolio already locked by the caller, signed by
    `actor`: the building block of transfers, sales, fills, rewards and merchant payments."""
    positive_int(quantity, what=_("The quantity"))
    takes = takes if takes is not None else plan_takes(sender, token_class, quantity, batch=batch)
    serials = serial_ranges(takes)
    entry = record(
        chain=sender.city.chain,
        actor=actor,
        kind="impact.token.transfer",
        payload=transfer_payload(
            sender=sender,
            recipient=recipient,
            token_class=token_class,
            quantity=quantity,
            serials=serials,
            purpose=purpose,
        ),
        append=append,
    )
    move(takes, to=recipient)
    return Transfer.objects.create(
        city=sender.city,
        token_class=token_class,
        sender=sender,
        recipient=recipient,
        quantity=quantity,
        serials=serials,
        purpose=purpose,
        entry=entry,
    )


@transaction.atomic
def token_transfer(
    *,
    sender: Portfolio,
    recipient: Portfolio,
    by: User,
    token_class: TokenClass,
    quantity: int,
    batch: Batch | None = None,
    append: Callable[[], Transaction] | None = None,
) -> Transfer:
    """Send `quantity` (smallest units) of `token_class` to another member's portfolio in
    the same city, signed by the sender's DID (by the platform, or by the holder: `append`,
    see `impact.actions.TransferTokens`, whose signed payload names the exact serials).
    Never below zero; retired, redeemed or escrowed tokens do not move."""
    sender = lock_portfolio(sender)
    _owned(sender, by)
    recipient = Portfolio.objects.select_related("city__identity", "user").get(pk=recipient.pk)
    _recipient_ok(recipient, sender)
    return transfer_execute(
        sender=sender,
        recipient=recipient,
        token_class=token_class,
        quantity=quantity,
        actor=sender.identity,
        batch=batch,
        append=append,
    )


# --- retirement ---------------------------------------------------------------------------


def beneficiary_clean(did: str, name: str) -> tuple[str, str, str | None]:
    did = (did or "").strip()
    name = clean_text(name or "", what=_("The beneficiary"), max_length=200, required=False)
    if did and not DID.match(did):
        raise InvalidInput(_("The beneficiary's DID is not a did:key."))
    on_ledger = did or (sha256_text(name) if name else None)
    return did, name, on_ledger


def retirement_payload(
    *,
    portfolio: Portfolio,
    token_class: TokenClass,
    quantity: int,
    serials: list,
    reason_code: str,
    beneficiary: str | None,
) -> dict:
    return {
        "city": portfolio.city.slug,
        "portfolio": portfolio.public_id,
        "holder": portfolio.identity.did,
        "token_class": token_class.code,
        "quantity": quantity,
        "serials": serials,
        "reason": reason_code,
        "beneficiary": beneficiary,
    }


def retire_execute(
    *,
    portfolio: Portfolio,
    token_class: TokenClass,
    quantity: int,
    reason_code: str,
    beneficiary_did: str = "",
    beneficiary_name: str = "",
    actor: Identity,
    batch: Batch | None = None,
    append: Callable[[], Transaction] | None = None,
) -> Retirement:
    """Retire from a portfolio already locked by the caller."""
    positive_int(quantity, what=_("The quantity"))
    if reason_code not in RetireReason.values:
        raise InvalidInput(_("Unknown reason for a retirement."))
    did, name, on_ledger = beneficiary_clean(beneficiary_did, beneficiary_name)
    takes = plan_takes(portfolio, token_class, quantity, batch=batch)
    serials = serial_ranges(takes)
    entry = record(
        chain=portfolio.city.chain,
        actor=actor,
        kind="impact.token.retire",
        payload=retirement_payload(
            portfolio=portfolio,
            token_class=token_class,
            quantity=quantity,
            serials=serials,
            reason_code=reason_code,
            beneficiary=on_ledger,
        ),
        append=append,
    )
    retirement = Retirement.objects.create(
        city=portfolio.city,
        portfolio=portfolio,
        token_class=token_class,
        quantity=quantity,
        beneficiary_did=did,
        beneficiary_name=name,
        reason_code=reason_code,
        serials=serials,
        entry=entry,
    )
    move(takes, to=portfolio, state=HoldingState.RETIRED, retirement=retirement)
    return retirement


@transaction.atomic
def token_retire(
    *,
    portfolio: Portfolio,
    by: User,
    token_class: TokenClass,
    quantity: int,
    reason_code: str,
    beneficiary_did: str = "",
    beneficiary_name: str = "",
    batch: Batch | None = None,
    append: Callable[[], Transaction] | None = None,
) -> Retirement:
    """Use tokens up for good, for a beneficiary (a DID; or a name, kept off the ledger,
    which holds its SHA-256) and a reason code. Irreversible: retired serials never move
    again. Signed by the holder's DID (by the platform, or by the holder: `append`)."""
    portfolio = lock_portfolio(portfolio)
    _owned(portfolio, by)
    return retire_execute(
        portfolio=portfolio,
        token_class=token_class,
        quantity=quantity,
        reason_code=reason_code,
        beneficiary_did=beneficiary_did,
        beneficiary_name=beneficiary_name,
        actor=portfolio.identity,
        batch=batch,
        append=append,
    )


@transaction.atomic
def portfolio_forward_consent(*, portfolio: Portfolio, by: User, accepts: bool) -> Portfolio:
    """The holder agrees (or stops agreeing) that batches issued to it fill the city's open
    forward orders at their fixed price."""
    portfolio = lock_portfolio(portfolio)
    _owned(portfolio, by)
    portfolio.accepts_forward_orders = bool(accepts)
    portfolio.save(update_fields=["accepts_forward_orders"])
    record(
        chain=portfolio.city.chain,
        actor=portfolio.identity,
        kind="impact.portfolio.forward_consent",
        payload={"portfolio": portfolio.public_id, "accepts": portfolio.accepts_forward_orders},
    )
    return portfolio
