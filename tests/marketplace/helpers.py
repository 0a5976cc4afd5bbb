"""Helpers of the app store tests: deploying through a city's vote, and checking that a
refused action wrote nothing."""

from __future__ import annotations

from contextlib import contextmanager

from governance.models import Proposal
from governance.services import proposal_execute, vote_cast
from marketplace.models import (
    Audit,
    ContractExecution,
    Deployment,
    Fee,
    Provider,
    Service,
    ServiceVersion,
    Task,
)
from tests.governance.helpers import close, draft, open_vote
from tests.governance.helpers import snapshot as governance_snapshot


def snapshot() -> dict:
    """Every row a governance or app store service may write."""
    return {
        **governance_snapshot(),
        "providers": Provider.objects.count(),
        "services": Service.objects.count(),
        "versions": list(
            ServiceVersion.objects.order_by("pk").values_list("pk", "status", "audited_at")
        ),
        "audits": Audit.objects.count(),
        "deployments": list(
            Deployment.objects.order_by("pk").values_list("pk", "active", "version_id")
        ),
        "fees": Fee.objects.count(),
        "executions": ContractExecution.objects.count(),
        "tasks": list(Task.objects.order_by("pk").values_list("pk", "status", "claimant_id")),
    }


@contextmanager
def writes_nothing():
    """`with writes_nothing(), pytest.raises(Error):` — the refusal left no trace."""
    before = snapshot()
    yield
    after = snapshot()
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, f"a refused action wrote to: {', '.join(changed)}"


def propose(mayor, version, action: str = "deploy") -> Proposal:
    return draft(mayor, "deploy_service", action=action, service_version=version.public_id)


def accept(proposal: Proposal, voters) -> Proposal:
    """Open the vote, `voters` vote yes, close it: accepted (not executed yet)."""
    proposal = open_vote(proposal, by=proposal.author)
    for member in voters:
        vote_cast(proposal=proposal, member=member, choice="yes")
    proposal = close(proposal)
    assert proposal.status == "accepted", proposal.tally
    return proposal


def decide(mayor, version, action: str = "deploy", voters=None) -> Proposal:
    """The city's vote on `action`, accepted and executed (the mayor votes yes alone unless
    `voters` say otherwise)."""
    proposal = accept(propose(mayor, version, action), voters or [mayor])
    return proposal_execute(proposal=proposal)


def go_self_custody(user, key):
    """`user` registers `key`, a client-side key, by signing its own registration (prepare,
    sign, submit), then retires its custodial DID: the key is its only live DID."""
    from identity.actions import RegisterSelfCustodyKey
    from identity.models import Custody
    from identity.services import identity_revoke
    from identity.signed_actions import action_execute, action_prepare

    action, data = RegisterSelfCustodyKey(), {"did": key.did, "label": "client"}
    prepared = action_prepare(action, user=user, data=data)
    identity = action_execute(
        action,
        user=user,
        data=data,
        created_at=prepared.created_at,
        signature=key.sign(prepared.signing_bytes).hex(),
    )
    custodial = user.identities.get(custody=Custody.CUSTODIAL)
    identity_revoke(identity=custodial, by=custodial)
    return identity
