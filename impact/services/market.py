"""Sell offers with escrow, purchases, and forward orders.

Prices are integer cents per smallest unit of the class. A sell offer locks its tokens in
escrow (holdings in state `escrow`, tied to the offer) until sold or withdrawn. A buyer
pays into the city treasury (bank ← impact-funds) and the seller is owed the price (a
Payable). A forward order pays in at once for future issuance at a fixed price; batches
issued to portfolios that accept forward orders fill the oldest open orders first.

Lock order: the offer (or order) row, then the portfolio rows, then holdings, then the
treasury accounts and the chain head.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import City
from identity.models import User

from ..errors import InvalidInput, NotAllowed, WrongState
from ..models import (
    Batch,
    ForwardFill,
    ForwardOrder,
    ForwardStatus,
    HoldingState,
    OfferStatus,
    PayableKind,
    Portfolio,
    Purchase,
    SellOffer,
    TokenClass,
)
from ._common import portfolio_for, positive_int, record, require_member
from .money import pay_in, payable_create
from .tokens import lock_portfolio, move, plan_takes, serial_ranges, transfer_execute


def _owned(portfolio: Portfolio, by: User) -> None:
    if portfolio.user_id != by.pk:
        raise NotAllowed(_("This portfolio is not yours."))


@transaction.atomic
def offer_create(
    *, seller: Portfolio, by: User, token_class: TokenClass, quantity: int, unit_price_cents: int
) -> SellOffer:
    """Put tokens up for sale: they go into escrow at once (they cannot be transferred,
    retired or offered twice while the offer is open)."""
    seller = lock_portfolio(seller)
    _owned(seller, by)
    require_member(by, seller.city)
    positive_int(quantity, what=_("The quantity"))
    positive_int(unit_price_cents, what=_("The price"))
    takes = plan_takes(seller, token_class, quantity)
    offer = SellOffer(
        city=seller.city,
        seller=seller,
        token_class=token_class,
        quantity=quantity,
        remaining=quantity,
        unit_price_cents=unit_price_cents,
    )
    offer.entry = record(
        chain=seller.city.chain,
        actor=seller.identity,
        kind="impact.offer.create",
        payload={
            "offer": offer.public_id,
            "portfolio": seller.public_id,
            "token_class": token_class.code,
            "quantity": quantity,
            "unit_price_cents": unit_price_cents,
            "serials": serial_ranges(takes),
        },
    )
    offer.save()
    move(takes, to=seller, state=HoldingState.ESCROW, offer=offer)
    return offer


def _locked_offer(offer: SellOffer) -> SellOffer:
    return (
        SellOffer.objects.select_for_update(of=("self",))
        .select_related("city__chain", "city__identity", "seller__identity", "token_class")
        .get(pk=offer.pk)
    )


@transaction.atomic
def offer_withdraw(*, offer: SellOffer, by: User) -> SellOffer:
    """The seller takes back what is left of an open offer: out of escrow, available."""
    offer = _locked_offer(offer)
    _owned(offer.seller, by)
    if offer.status != OfferStatus.OPEN:
        raise WrongState(_("This offer is not open."))
    seller = lock_portfolio(offer.seller)
    takes = plan_takes(
        seller, offer.token_class, offer.remaining, state=HoldingState.ESCROW, offer=offer
    )
    record(
        chain=offer.city.chain,
        actor=seller.identity,
        kind="impact.offer.withdraw",
        payload={"offer": offer.public_id, "released": offer.remaining},
    )
    move(takes, to=seller)
    offer.status = OfferStatus.WITHDRAWN
    offer.closed_at = timezone.now()
    offer.save(update_fields=["status", "closed_at"])
    return offer


@transaction.atomic
def offer_buy(*, offer: SellOffer, buyer: Portfolio, by: User, quantity: int) -> Purchase:
    """Buy `quantity` from an open offer: the buyer's money comes into the treasury, the
    escrowed serials go to the buyer, the seller is owed `quantity × unit price`."""
    offer = _locked_offer(offer)
    buyer = Portfolio.objects.select_related("identity").get(pk=buyer.pk)
    _owned(buyer, by)
    require_member(by, offer.city)
    positive_int(quantity, what=_("The quantity"))
    if buyer.city_id != offer.city_id:
        raise InvalidInput(_("Buy with a portfolio of the offer's city."))
    if offer.status != OfferStatus.OPEN:
        raise WrongState(_("This offer is not open."))
    if buyer.pk == offer.seller_id:
        raise InvalidInput(_("You cannot buy your own offer."))
    if quantity > offer.remaining:
        raise WrongState(_("Only %(n)s units are left in this offer.") % {"n": offer.remaining})
    seller = lock_portfolio(offer.seller)
    amount = quantity * offer.unit_price_cents
    takes = plan_takes(seller, offer.token_class, quantity, state=HoldingState.ESCROW, offer=offer)
    movement = pay_in(city=offer.city, amount_cents=amount, label=f"impact offer {offer.public_id}")
    transfer = transfer_execute(
        sender=seller,
        recipient=buyer,
        token_class=offer.token_class,
        quantity=quantity,
        actor=offer.city.identity,
        purpose="sale",
        takes=takes,
    )
    payable = payable_create(
        city=offer.city,
        kind=PayableKind.SALE,
        payee=seller,
        amount_cents=amount,
        source=offer.public_id,
    )
    purchase = Purchase(
        offer=offer,
        buyer=buyer,
        quantity=quantity,
        amount_cents=amount,
        transfer=transfer,
        movement=movement,
        payable=payable,
    )
    purchase.entry = record(
        chain=offer.city.chain,
        actor=buyer.identity,
        kind="impact.offer.buy",
        payload={
            "purchase": purchase.public_id,
            "offer": offer.public_id,
            "buyer": buyer.public_id,
            "quantity": quantity,
            "amount_cents": amount,
            "movement": movement.public_id,
            "payable": payable.public_id,
        },
    )
    purchase.save()
    offer.remaining -= quantity
    if offer.remaining == 0:
        offer.status = OfferStatus.SOLD
        offer.closed_at = timezone.now()
    offer.save(update_fields=["remaining", "status", "closed_at"])
    return purchase


# --- forward orders -----------------------------------------------------------------------


@transaction.atomic
def forward_order_create(
    *,
    city: City,
    by: User,
    token_class: TokenClass,
    quantity: int,
    unit_price_cents: int,
) -> ForwardOrder:
    """An investor (an approved member) pre-buys `quantity` of future issuance in `city` at a
    fixed price, paying the whole amount into the treasury now."""
    require_member(by, city)
    positive_int(quantity, what=_("The quantity"))
    positive_int(unit_price_cents, what=_("The price"))
    investor = portfolio_for(city=city, user=by)
    amount = quantity * unit_price_cents
    order = ForwardOrder(
        city=city,
        investor=investor,
        token_class=token_class,
        quantity=quantity,
        unit_price_cents=unit_price_cents,
    )
    order.movement = pay_in(city=city, amount_cents=amount, label=f"impact order {order.public_id}")
    order.entry = record(
        chain=city.chain,
        actor=investor.identity,
        kind="impact.forward.create",
        payload={
            "order": order.public_id,
            "portfolio": investor.public_id,
            "token_class": token_class.code,
            "quantity": quantity,
            "unit_price_cents": unit_price_cents,
            "movement": order.movement.public_id,
        },
    )
    order.save()
    return order


@transaction.atomic
def forward_order_cancel(*, order: ForwardOrder, by: User) -> ForwardOrder:
    """The investor cancels what is not filled yet; the city owes the refund (a Payable)."""
    order = (
        ForwardOrder.objects.select_for_update(of=("self",))
        .select_related("city__chain", "city__identity", "investor__identity")
        .get(pk=order.pk)
    )
    _owned(order.investor, by)
    if order.status != ForwardStatus.OPEN:
        raise WrongState(_("This order is not open."))
    unfilled = order.quantity - order.filled
    order.status = ForwardStatus.CANCELLED
    order.save(update_fields=["status"])
    payable = payable_create(
        city=order.city,
        kind=PayableKind.REFUND,
        payee=order.investor,
        amount_cents=unfilled * order.unit_price_cents,
        source=order.public_id,
    )
    record(
        chain=order.city.chain,
        actor=order.investor.identity,
        kind="impact.forward.cancel",
        payload={"order": order.public_id, "unfilled": unfilled, "payable": payable.public_id},
    )
    return order


def forward_orders_fill(*, batch: Batch) -> list[ForwardFill]:
    """Fill the city's open forward orders of the batch's class, oldest first, from a batch
    just issued to a portfolio that accepts forward orders (inside the issuing
    transaction). Each fill is a transfer signed by the city's DID and a Payable of the
    order's price to the batch's holder."""
    holder = lock_portfolio(batch.portfolio)
    orders = (
        ForwardOrder.objects.select_for_update(of=("self",))
        .select_related("investor__identity")
        .filter(city_id=batch.city_id, token_class_id=batch.token_class_id, status="open")
        .exclude(investor=holder)
        .order_by("created_at", "pk")
    )
    city = batch.city
    left = batch.quantity
    fills = []
    for order in orders:
        if left == 0:
            break
        quantity = min(left, order.quantity - order.filled)
        transfer = transfer_execute(
            sender=holder,
            recipient=order.investor,
            token_class=batch.token_class,
            quantity=quantity,
            actor=city.identity,
            purpose="forward",
            batch=batch,
        )
        payable = payable_create(
            city=city,
            kind=PayableKind.FORWARD,
            payee=holder,
            amount_cents=quantity * order.unit_price_cents,
            source=order.public_id,
        )
        fills.append(
            ForwardFill.objects.create(
                order=order, batch=batch, quantity=quantity, transfer=transfer, payable=payable
            )
        )
        order.filled += quantity
        if order.filled == order.quantity:
            order.status = ForwardStatus.FILLED
        order.save(update_fields=["filled", "status"])
        left -= quantity
    return fills
