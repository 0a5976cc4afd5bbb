"""The city's offers and projects: merchants' goods and services for tokens, projects
collecting tokens or money, and the municipality's participation calls rewarded in tokens.

Titles and descriptions stay in the database; the ledger holds their SHA-256.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from governance.models import City, Membership, MembershipStatus
from identity.models import User

from ..errors import InvalidInput, NotAllowed, WrongState
from ..models import (
    Contribution,
    MerchantOffer,
    MerchantRedemption,
    MerchantSettlement,
    Participation,
    ParticipationCall,
    ParticipationStatus,
    PayableKind,
    Portfolio,
    Project,
    ProjectStatus,
    RetireReason,
    TokenClass,
)
from ._common import (
    city_portfolio,
    clean_text,
    portfolio_for,
    positive_int,
    record,
    require_member,
    require_staff,
    sha256_json,
)
from .money import pay_in, payable_create
from .tokens import lock_portfolio, retire_execute, transfer_execute


def _description(text) -> str:
    return clean_text(text, what=_("The description"), max_length=5000, required=False)


def _content(title: str, description: str) -> str:
    return sha256_json({"title": title, "description": description})


# --- merchant offers ----------------------------------------------------------------------


@transaction.atomic
def merchant_offer_create(
    *,
    city: City,
    by: User,
    title: str,
    description: str,
    token_class: TokenClass,
    price_quantity: int,
    settlement: str,
    stock: int | None = None,
) -> MerchantOffer:
    """A merchant (an approved member) offers goods or services for `price_quantity`
    smallest units per item: the tokens go to the merchant (`transfer`) or are retired in
    the buyer's name (`retire`)."""
    require_member(by, city)
    title = clean_text(title, what=_("The title"), max_length=200)
    description = clean_text(
        description, what=_("The description"), max_length=5000, required=False
    )
    positive_int(price_quantity, what=_("The price"))
    if settlement not in MerchantSettlement.values:
        raise InvalidInput(_("The tokens are transferred or retired."))
    if stock is not None:
        positive_int(stock, what=_("The stock"), zero=True)
    merchant = portfolio_for(city=city, user=by)
    offer = MerchantOffer(
        city=city,
        merchant=merchant,
        title=title,
        description=description,
        token_class=token_class,
        price_quantity=price_quantity,
        settlement=settlement,
        stock=stock,
    )
    offer.entry = record(
        chain=city.chain,
        actor=merchant.identity,
        kind="impact.merchant.offer",
        payload={
            "offer": offer.public_id,
            "merchant": merchant.public_id,
            "token_class": token_class.code,
            "price_quantity": price_quantity,
            "settlement": settlement,
            "stock": stock,
            "content": _content(title, description),
        },
    )
    offer.save()
    return offer


@transaction.atomic
def merchant_offer_close(*, offer: MerchantOffer, by: User) -> MerchantOffer:
    offer = (
        MerchantOffer.objects.select_for_update(of=("self",))
        .select_related("city__chain", "merchant__identity")
        .get(pk=offer.pk)
    )
    if offer.merchant.user_id != by.pk:
        raise NotAllowed(_("Only the merchant closes its offer."))
    if not offer.active:
        raise WrongState(_("This offer is closed."))
    offer.active = False
    offer.save(update_fields=["active"])
    record(
        chain=offer.city.chain,
        actor=offer.merchant.identity,
        kind="impact.merchant.close",
        payload={"offer": offer.public_id},
    )
    return offer


@transaction.atomic
def merchant_offer_redeem(
    *, offer: MerchantOffer, buyer: Portfolio, by: User, items: int = 1
) -> MerchantRedemption:
    """Spend tokens on a merchant's offer: `items × price` units leave the buyer's portfolio
    (to the merchant, or retired for the buyer), signed by the buyer's DID."""
    offer = (
        MerchantOffer.objects.select_for_update(of=("self",))
        .select_related("city__chain", "merchant__identity", "token_class")
        .get(pk=offer.pk)
    )
    positive_int(items, what=_("The number of items"))
    if not offer.active:
        raise WrongState(_("This offer is closed."))
    if offer.stock is not None and offer.stock < items:
        raise WrongState(_("Not enough left in stock."))
    buyer = lock_portfolio(buyer)
    if buyer.user_id != by.pk:
        raise NotAllowed(_("This portfolio is not yours."))
    if buyer.city_id != offer.city_id or buyer.pk == offer.merchant_id:
        raise InvalidInput(_("Spend from your own portfolio in the offer's city."))
    require_member(by, offer.city)
    quantity = items * offer.price_quantity
    redemption = MerchantRedemption(offer=offer, buyer=buyer, items=items, quantity=quantity)
    if offer.settlement == MerchantSettlement.TRANSFER:
        redemption.transfer = transfer_execute(
            sender=buyer,
            recipient=offer.merchant,
            token_class=offer.token_class,
            quantity=quantity,
            actor=buyer.identity,
            purpose="merchant",
        )
    else:
        redemption.retirement = retire_execute(
            portfolio=buyer,
            token_class=offer.token_class,
            quantity=quantity,
            reason_code=RetireReason.MERCHANT,
            beneficiary_did=buyer.identity.did,
            actor=buyer.identity,
        )
    redemption.entry = record(
        chain=offer.city.chain,
        actor=buyer.identity,
        kind="impact.merchant.redeem",
        payload={
            "redemption": redemption.public_id,
            "offer": offer.public_id,
            "items": items,
            "quantity": quantity,
        },
    )
    redemption.save()
    if offer.stock is not None:
        offer.stock -= items
        offer.save(update_fields=["stock"])
    return redemption


# --- projects -----------------------------------------------------------------------------


@transaction.atomic
def project_create(
    *,
    city: City,
    by: User,
    title: str,
    description: str,
    token_class: TokenClass | None = None,
    goal_quantity: int = 0,
    goal_cents: int = 0,
) -> Project:
    """A project (an association's, a member's) collecting tokens of a class, money, or
    both, toward its goals."""
    require_member(by, city)
    title = clean_text(title, what=_("The title"), max_length=200)
    description = clean_text(
        description, what=_("The description"), max_length=5000, required=False
    )
    positive_int(goal_quantity, what=_("The goal in tokens"), zero=True)
    positive_int(goal_cents, what=_("The goal in money"), zero=True)
    if goal_quantity and token_class is None:
        raise InvalidInput(_("A goal in tokens names their class."))
    if not (goal_quantity or goal_cents):
        raise InvalidInput(_("A project collects tokens, money, or both."))
    owner = portfolio_for(city=city, user=by)
    project = Project(
        city=city,
        owner=owner,
        title=title,
        description=description,
        token_class=token_class,
        goal_quantity=goal_quantity,
        goal_cents=goal_cents,
    )
    project.entry = record(
        chain=city.chain,
        actor=owner.identity,
        kind="impact.project.create",
        payload={
            "project": project.public_id,
            "owner": owner.public_id,
            "token_class": token_class.code if token_class else None,
            "goal_quantity": goal_quantity,
            "goal_cents": goal_cents,
            "content": _content(title, description),
        },
    )
    project.save()
    return project


@transaction.atomic
def project_contribute(
    *, project: Project, contributor: Portfolio, by: User, quantity: int = 0, amount_cents: int = 0
) -> Contribution:
    """Give tokens (transferred to the project's owner) and/or money (paid into the
    treasury; the city owes it to the project's owner) to an open project."""
    project = (
        Project.objects.select_for_update(of=("self",))
        .select_related("city__chain", "city__identity", "owner__identity", "token_class")
        .get(pk=project.pk)
    )
    if project.status != ProjectStatus.OPEN:
        raise WrongState(_("This project is closed."))
    positive_int(quantity, what=_("The quantity"), zero=True)
    positive_int(amount_cents, what=_("The amount"), zero=True)
    if not (quantity or amount_cents):
        raise InvalidInput(_("Give tokens, money, or both."))
    if quantity and project.token_class is None:
        raise InvalidInput(_("This project collects no tokens."))
    contributor = lock_portfolio(contributor)
    if contributor.user_id != by.pk:
        raise NotAllowed(_("This portfolio is not yours."))
    if contributor.city_id != project.city_id or contributor.pk == project.owner_id:
        raise InvalidInput(_("Contribute from your own portfolio in the project's city."))
    require_member(by, project.city)
    contribution = Contribution(
        project=project, contributor=contributor, quantity=quantity, amount_cents=amount_cents
    )
    if quantity:
        contribution.transfer = transfer_execute(
            sender=contributor,
            recipient=project.owner,
            token_class=project.token_class,
            quantity=quantity,
            actor=contributor.identity,
            purpose="project",
        )
    if amount_cents:
        contribution.movement = pay_in(
            city=project.city,
            amount_cents=amount_cents,
            label=f"impact project {project.public_id}",
        )
        contribution.payable = payable_create(
            city=project.city,
            kind=PayableKind.PROJECT,
            payee=project.owner,
            amount_cents=amount_cents,
            source=project.public_id,
        )
    contribution.entry = record(
        chain=project.city.chain,
        actor=contributor.identity,
        kind="impact.project.contribute",
        payload={
            "contribution": contribution.public_id,
            "project": project.public_id,
            "quantity": quantity,
            "amount_cents": amount_cents,
        },
    )
    contribution.save()
    project.collected_quantity += quantity
    project.collected_cents += amount_cents
    project.save(update_fields=["collected_quantity", "collected_cents"])
    return contribution


@transaction.atomic
def project_close(*, project: Project, by: User) -> Project:
    project = (
        Project.objects.select_for_update(of=("self",))
        .select_related("city__chain", "owner__identity")
        .get(pk=project.pk)
    )
    if project.owner.user_id != by.pk:
        raise NotAllowed(_("Only the project's owner closes it."))
    if project.status != ProjectStatus.OPEN:
        raise WrongState(_("This project is closed."))
    project.status = ProjectStatus.CLOSED
    project.save(update_fields=["status"])
    record(
        chain=project.city.chain,
        actor=project.owner.identity,
        kind="impact.project.close",
        payload={
            "project": project.public_id,
            "collected_quantity": project.collected_quantity,
            "collected_cents": project.collected_cents,
        },
    )
    return project


# --- participation calls ------------------------------------------------------------------


@transaction.atomic
def participation_call_create(
    *,
    city: City,
    by: User,
    title: str,
    description: str,
    token_class: TokenClass,
    reward_quantity: int,
    places: int,
) -> ParticipationCall:
    """Municipality staff call for residents' participation in public works; each
    participant is rewarded `reward_quantity` from the city's portfolio."""
    staff = require_staff(by, city)
    title = clean_text(title, what=_("The title"), max_length=200)
    description = clean_text(
        description, what=_("The description"), max_length=5000, required=False
    )
    positive_int(reward_quantity, what=_("The reward"))
    positive_int(places, what=_("The number of places"))
    call = ParticipationCall(
        city=city,
        created_by=staff,
        title=title,
        description=description,
        token_class=token_class,
        reward_quantity=reward_quantity,
        places=places,
    )
    call.entry = record(
        chain=city.chain,
        actor=staff.identity,
        kind="impact.call.create",
        payload={
            "call": call.public_id,
            "token_class": token_class.code,
            "reward_quantity": reward_quantity,
            "places": places,
            "content": _content(title, description),
        },
    )
    call.save()
    return call


@transaction.atomic
def participation_register(*, call: ParticipationCall, by: User) -> Participation:
    """An approved member of the city signs up, while places are left."""
    call = (
        ParticipationCall.objects.select_for_update(of=("self",))
        .select_related("city__chain")
        .get(pk=call.pk)
    )
    member = require_member(by, call.city)
    if call.status != ProjectStatus.OPEN:
        raise WrongState(_("This call is closed."))
    if call.participations.count() >= call.places:
        raise WrongState(_("No places are left."))
    entry = record(
        chain=call.city.chain,
        actor=member.identity,
        kind="impact.call.register",
        payload={"call": call.public_id, "membership": member.public_id},
    )
    try:
        with transaction.atomic():
            return Participation.objects.create(call=call, membership=member, entry=entry)
    except IntegrityError as error:
        raise WrongState(_("You are already signed up.")) from error


@transaction.atomic
def participation_reward(*, participation: Participation, by: User) -> Participation:
    """Municipality staff confirm the participation: the reward moves from the city's
    portfolio to the participant's, signed by the city's DID. Once per participation."""
    participation = (
        Participation.objects.select_for_update(of=("self",))
        .select_related("call__city__chain", "call__city__identity", "call__token_class")
        .select_related("membership__user")
        .get(pk=participation.pk)
    )
    call = participation.call
    require_staff(by, call.city)
    if participation.status != ParticipationStatus.REGISTERED:
        raise WrongState(_("This participation was already rewarded."))
    member = Membership.objects.get(pk=participation.membership_id)
    if member.status != MembershipStatus.APPROVED:
        raise WrongState(_("The participant is no longer a member."))
    source = lock_portfolio(city_portfolio(call.city))
    recipient = portfolio_for(city=call.city, user=participation.membership.user)
    participation.transfer = transfer_execute(
        sender=source,
        recipient=recipient,
        token_class=call.token_class,
        quantity=call.reward_quantity,
        actor=call.city.identity,
        purpose="participation",
    )
    participation.status = ParticipationStatus.REWARDED
    participation.save(update_fields=["transfer", "status"])
    return participation


@transaction.atomic
def participation_call_close(*, call: ParticipationCall, by: User) -> ParticipationCall:
    call = (
        ParticipationCall.objects.select_for_update(of=("self",))
        .select_related("city__chain")
        .get(pk=call.pk)
    )
    staff = require_staff(by, call.city)
    if call.status != ProjectStatus.OPEN:
        raise WrongState(_("This call is closed."))
    call.status = ProjectStatus.CLOSED
    call.save(update_fields=["status"])
    record(
        chain=call.city.chain,
        actor=staff.identity,
        kind="impact.call.close",
        payload={"call": call.public_id},
    )
    return call
