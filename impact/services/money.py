"""Money around impact, in integer cents, through the city treasury.

Money comes in freely: an investor's payment is a balanced movement debiting `bank` and
crediting `impact-funds`. Money leaves the bank only through an executed fund_project
proposal (governance's rule, `treasury_move`), so what the city owes a seller, a claimant
filling a forward order, a redeeming provider or a curator's bounty is recorded as a
Payable, and settled by naming the executed proposal that paid exactly that amount to that
DID (`payable_settle`).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import City, Movement, Proposal, ProposalKind, ProposalStatus
from governance.services import treasury_move
from identity.models import User

from ..errors import InvalidInput, NotAllowed, WrongState
from ..models import (
    HoldingState,
    Payable,
    PayableKind,
    PayableStatus,
    Portfolio,
    Redemption,
    RedemptionRate,
    TokenClass,
)
from ..permissions import can_redeem
from ._common import approved_member, positive_int, record, require_staff, signer_of
from .tokens import lock_portfolio, move, plan_takes, serial_ranges

IMPACT_ACCOUNT = "impact-funds"


def pay_in(*, city: City, amount_cents: int, label: str) -> Movement:
    """An investor's money received into the treasury (bank ← impact-funds)."""
    positive_int(amount_cents, what=_("The amount"))
    return treasury_move(
        city=city, label=label, postings=[("bank", amount_cents), (IMPACT_ACCOUNT, -amount_cents)]
    )


def payable_create(
    *, city: City, kind: str, payee: Portfolio, amount_cents: int, source: str
) -> Payable:
    """Record what the city owes `payee` (inside the caller's transaction), on the ledger
    signed by the city's DID."""
    positive_int(amount_cents, what=_("The amount"))
    payable = Payable(
        city=city,
        kind=kind,
        payee=payee,
        payee_did=payee.identity.did,
        amount_cents=amount_cents,
    )
    payable.entry = record(
        chain=city.chain,
        actor=city.identity,
        kind="impact.payable.create",
        payload={
            "payable": payable.public_id,
            "kind": kind,
            "payee": payable.payee_did,
            "amount_cents": amount_cents,
            "source": source,
        },
    )
    payable.save()
    return payable


@transaction.atomic
def payable_settle(*, payable: Payable, proposal: Proposal, by: User) -> Payable:
    """Municipality staff mark a payable paid by naming the executed fund_project proposal
    of the city that paid exactly its amount to its payee's DID (the proposal's execution
    moved the money out of the bank). One proposal settles one payable."""
    payable = Payable.objects.select_for_update().select_related("city__chain").get(pk=payable.pk)
    require_staff(by, payable.city)
    if payable.status != PayableStatus.OWED:
        raise WrongState(_("This payable is already paid."))
    proposal = Proposal.objects.filter(pk=proposal.pk).first()
    parameters = (proposal.parameters or {}) if proposal else {}
    if (
        proposal is None
        or proposal.city_id != payable.city_id
        or proposal.kind != ProposalKind.FUND_PROJECT
        or proposal.status != ProposalStatus.EXECUTED
        or parameters.get("recipient") != payable.payee_did
        or parameters.get("amount_cents") != payable.amount_cents
    ):
        raise WrongState(
            _(
                "The payment needs an executed fund_project decision of this city paying exactly "
                "this amount to this payee."
            )
        )
    payable.status = PayableStatus.PAID
    payable.paid_at = timezone.now()
    payable.proposal = proposal
    payable.paid_entry = record(
        chain=payable.city.chain,
        actor=signer_of(by),
        kind="impact.payable.settle",
        payload={"payable": payable.public_id, "proposal": proposal.public_id},
    )
    try:
        with transaction.atomic():
            payable.save(update_fields=["status", "paid_at", "proposal", "paid_entry"])
    except IntegrityError as error:
        raise WrongState(_("That decision already paid another payable.")) from error
    return payable


@transaction.atomic
def redemption_rate_set(
    *, city: City, by: User, token_class: TokenClass, cents_per_unit: int
) -> RedemptionRate:
    """Municipality staff set what the city pays per whole unit of a class on redemption."""
    require_staff(by, city)
    positive_int(cents_per_unit, what=_("The rate"))
    entry = record(
        chain=city.chain,
        actor=signer_of(by),
        kind="impact.redemption.rate",
        payload={"token_class": token_class.code, "cents_per_unit": cents_per_unit},
    )
    rate, _created = RedemptionRate.objects.update_or_create(
        city=city,
        token_class=token_class,
        defaults={"cents_per_unit": cents_per_unit, "set_by": by, "entry": entry},
    )
    return rate


def redemption_amount(*, quantity: int, cents_per_unit: int, precision: int) -> int:
    """Cents owed for `quantity` smallest units: rounded down to the cent."""
    return quantity * cents_per_unit // 10**precision


@transaction.atomic
def token_redeem(
    *, portfolio: Portfolio, by: User, token_class: TokenClass, quantity: int
) -> Redemption:
    """A provider-college member exchanges tokens for money at the city's rate: the tokens
    are used up (redeemed, never to move again) and the city owes the amount (a Payable,
    paid through an executed proposal)."""
    portfolio = lock_portfolio(portfolio)
    if portfolio.user_id != by.pk:
        raise NotAllowed(_("This portfolio is not yours."))
    membership = approved_member(by, portfolio.city)
    if not can_redeem(membership):
        raise NotAllowed(_("Only members of the providers college redeem tokens for money."))
    positive_int(quantity, what=_("The quantity"))
    rate = RedemptionRate.objects.filter(city=portfolio.city, token_class=token_class).first()
    if rate is None:
        raise WrongState(_("The city has set no redemption rate for this class."))
    amount = redemption_amount(
        quantity=quantity, cents_per_unit=rate.cents_per_unit, precision=token_class.precision
    )
    if amount < 1:
        raise InvalidInput(_("This quantity is worth less than a cent."))
    takes = plan_takes(portfolio, token_class, quantity)
    serials = serial_ranges(takes)
    city = portfolio.city
    payable = payable_create(
        city=city,
        kind=PayableKind.REDEMPTION,
        payee=portfolio,
        amount_cents=amount,
        source=portfolio.public_id,
    )
    redemption = Redemption(
        city=city,
        portfolio=portfolio,
        membership=membership,
        token_class=token_class,
        quantity=quantity,
        amount_cents=amount,
        serials=serials,
        payable=payable,
    )
    redemption.entry = record(
        chain=city.chain,
        actor=portfolio.identity,
        kind="impact.token.redeem",
        payload={
            "redemption": redemption.public_id,
            "portfolio": portfolio.public_id,
            "token_class": token_class.code,
            "quantity": quantity,
            "serials": serials,
            "amount_cents": amount,
            "payable": payable.public_id,
        },
    )
    redemption.save()
    move(takes, to=portfolio, state=HoldingState.REDEEMED, redemption=redemption)
    return redemption
