"""The share register: subscriptions, admissions, transfers and withdrawals, each signed on
the network chain; a holding never goes below zero."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cooperative.errors import InsufficientShares, NoSuchMember, NotAMember, SubscriptionPending
from cooperative.models import Holding, MovementStatus, ShareMovement
from cooperative.services import (
    member_of,
    share_subscribe,
    share_transfer,
    share_withdraw,
    subscription_admit,
    subscription_refuse,
    total_shares,
)
from governance.errors import InvalidInput, NotAllowed
from governance.models import MembershipStatus, RulesVersion
from ledger.models import Transaction
from tests.factories import UserFactory


def entries(kind: str) -> int:
    return Transaction.objects.filter(chain__slug="network", kind=kind).count()


def test_a_newcomer_waits_for_the_board(body, operator):
    newcomer = UserFactory()
    movement = share_subscribe(
        user=newcomer, shares=5, horizon_years=7, college=body.colleges.get(slug="investors")
    )
    assert movement.status == MovementStatus.PENDING
    assert member_of(newcomer, body) is None
    assert movement.entry.actor == newcomer.primary_identity.did
    assert movement.entry.payload["status"] == "pending"
    with pytest.raises(SubscriptionPending):
        share_subscribe(
            user=newcomer, shares=1, horizon_years=0, college=body.colleges.get(slug="clients")
        )
    subscription_admit(movement=movement, by=operator)
    member = member_of(newcomer, body)
    assert member.college.slug == "investors"
    assert member.credential.kind == "CooperativeMembershipCredential"
    assert total_shares(member) == 5
    assert entries("cooperative.share.admit") == 1


def test_only_the_board_admits(body):
    newcomer = UserFactory()
    movement = share_subscribe(
        user=newcomer, shares=1, horizon_years=0, college=body.colleges.get(slug="clients")
    )
    with pytest.raises(NotAllowed):
        subscription_admit(movement=movement, by=UserFactory())
    assert ShareMovement.objects.get(pk=movement.pk).status == MovementStatus.PENDING


def test_when_the_rules_say_vote_the_board_cannot_admit(body, operator):
    version = body.rules_versions.get()
    rules = {**version.rules, "cooperative": {**version.rules["cooperative"], "admission": "vote"}}
    RulesVersion.objects.create(city=body, version=2, rules=rules, digest="0" * 64)
    movement = share_subscribe(
        user=UserFactory(), shares=1, horizon_years=0, college=body.colleges.get(slug="clients")
    )
    with pytest.raises(NotAllowed):
        subscription_admit(movement=movement, by=operator)


def test_a_refused_subscription_issues_nothing(body, operator):
    newcomer = UserFactory()
    movement = share_subscribe(
        user=newcomer, shares=3, horizon_years=0, college=body.colleges.get(slug="clients")
    )
    subscription_refuse(movement=movement, by=operator)
    assert ShareMovement.objects.get(pk=movement.pk).status == MovementStatus.REFUSED
    assert member_of(newcomer, body) is None
    assert not Holding.objects.exists()


def test_a_member_subscribes_more_at_once(investor):
    movement = share_subscribe(user=investor.user, shares=4, horizon_years=3)
    assert movement.status == MovementStatus.DONE
    assert movement.amount_cents == 4 * 10_000
    assert total_shares(investor) == 34
    assert Holding.objects.get(membership=investor, horizon_years=3).shares == 4


def test_transfer_between_members(investor, client_member):
    movement = share_transfer(
        user=investor.user, to_did=client_member.identity.did, shares=10, horizon_years=10
    )
    assert total_shares(investor) == 20
    assert total_shares(client_member) == 12
    assert movement.entry.actor == investor.identity.did
    assert movement.entry.payload["to"] == client_member.identity.did


def test_a_transfer_beyond_the_holding_writes_nothing(investor, client_member):
    before = Transaction.objects.count()
    with pytest.raises(InsufficientShares):
        share_transfer(
            user=investor.user, to_did=client_member.identity.did, shares=31, horizon_years=10
        )
    with pytest.raises(InsufficientShares):  # no holding under that horizon
        share_transfer(
            user=investor.user, to_did=client_member.identity.did, shares=1, horizon_years=4
        )
    assert Transaction.objects.count() == before
    assert total_shares(investor) == 30


def test_transfers_need_two_members(body, investor):
    with pytest.raises(NoSuchMember):
        share_transfer(
            user=investor.user, to_did="did:key:z6Mkstranger", shares=1, horizon_years=10
        )
    with pytest.raises(NotAMember):
        share_transfer(user=UserFactory(), to_did=investor.identity.did, shares=1, horizon_years=0)
    with pytest.raises(InvalidInput):
        share_transfer(user=investor.user, to_did=investor.identity.did, shares=1, horizon_years=10)


def test_withdrawal_redeems_at_nominal_and_the_last_share_leaves(investor):
    movement = share_withdraw(user=investor.user, shares=10, horizon_years=10)
    assert movement.amount_cents == 10 * 10_000
    assert total_shares(investor) == 20
    share_withdraw(user=investor.user, shares=20, horizon_years=10)
    investor.refresh_from_db()
    assert investor.status == MembershipStatus.REVOKED
    assert investor.credential.revoked_at is not None
    assert entries("cooperative.member.leave") == 1


@pytest.mark.parametrize("shares", [0, -1, 1_000_001, "3"])
def test_share_counts_are_positive_whole_numbers(investor, shares):
    with pytest.raises(InvalidInput):
        share_subscribe(user=investor.user, shares=shares, horizon_years=0)


def test_the_database_refuses_a_negative_holding(investor):
    with pytest.raises(IntegrityError), transaction.atomic():
        Holding.objects.filter(membership=investor).update(shares=-1)


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["subscribe", "transfer", "withdraw"]),
        st.integers(min_value=0, max_value=2),  # who acts
        st.integers(min_value=0, max_value=2),  # to whom
        st.integers(min_value=1, max_value=15),  # shares
        st.sampled_from([0, 5]),  # horizon
    ),
    max_size=12,
)


@pytest.mark.django_db
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
def test_no_sequence_of_movements_makes_a_holding_negative(body, operator, operations):
    """Whatever members try, every holding stays >= 0 and the register adds up: the shares
    held are the shares subscribed minus the shares withdrawn."""
    from .helpers import admitted

    with transaction.atomic():
        users = [UserFactory() for _ in range(3)]
        members = [
            admitted(body, users[i], "investors", shares=5, horizon=5, by=operator)
            for i in range(3)
        ]
        issued = 15
        for kind, who, to, shares, horizon in operations:
            try:
                if kind == "subscribe":
                    share_subscribe(user=users[who], shares=shares, horizon_years=horizon)
                    issued += shares
                elif kind == "transfer":
                    share_transfer(
                        user=users[who],
                        to_did=members[to].identity.did,
                        shares=shares,
                        horizon_years=horizon,
                    )
                else:
                    share_withdraw(user=users[who], shares=shares, horizon_years=horizon)
                    issued -= shares
            except (InsufficientShares, NotAMember, NoSuchMember, InvalidInput):
                pass
            assert not Holding.objects.filter(shares__lt=0).exists()
        held = sum(Holding.objects.filter(membership__in=members).values_list("shares", flat=True))
        assert held == issued
        transaction.set_rollback(True)
