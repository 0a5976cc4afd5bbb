"""A bounty on verifying a claim: a city-paid "verify_claim" task of the app store, given
to the curator who decides; without a task, the reward is owed to that curator."""

from __future__ import annotations

import pytest

from impact.errors import NotAllowed, WrongState
from impact.models import Payable
from impact.services import claim_bounty_post, claim_verify

from .helpers import approve, submitted_claim, writes_nothing


def test_the_bounty_is_an_app_store_task_completed_by_the_deciding_curator(
    resident, curator_member, staff
):
    from marketplace.models import Task

    claim = claim_bounty_post(claim=submitted_claim(resident), by=staff, reward_cents=300)
    task = Task.objects.get(public_id=claim.bounty_task_ref)
    assert (task.kind, task.payer, task.reward_cents, task.status) == (
        "verify_claim",
        "city",
        300,
        "open",
    )
    verification = approve(claim, curator_member)
    task.refresh_from_db()
    assert task.status == "completed" and task.claimant == curator_member.user
    assert verification.bounty_task_ref == task.public_id
    assert not Payable.objects.filter(kind="bounty").exists()


def test_without_the_app_store_the_reward_is_owed(resident, curator_member, staff, monkeypatch):
    from impact import marketplace

    monkeypatch.setattr(marketplace, "bounty_post", lambda **kwargs: None)
    claim = claim_bounty_post(claim=submitted_claim(resident), by=staff, reward_cents=300)
    verification = claim_verify(
        claim=claim,
        by=curator_member.user,
        decision="reject",
        recomputed_quantity=claim.quantity,
        reason_code="duplicate",
    )
    assert verification.reward_owed_cents == 300
    payable = Payable.objects.get(kind="bounty")
    assert payable.amount_cents == 300 and payable.payee_did == curator_member.identity.did


def test_only_staff_post_bounties_once(resident, staff):
    claim = submitted_claim(resident)
    with writes_nothing(), pytest.raises(NotAllowed):
        claim_bounty_post(claim=claim, by=resident.user, reward_cents=300)
    claim_bounty_post(claim=claim, by=staff, reward_cents=300)
    with writes_nothing(), pytest.raises(WrongState):
        claim_bounty_post(claim=claim, by=staff, reward_cents=300)
