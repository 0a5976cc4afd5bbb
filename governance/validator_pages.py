"""The municipality's page of its chain's validators: who may co-sign the city's blocks, the
quorum, scheduled changes, the latest blocks' signatures and any equivocation."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from identity.models import Identity
from ledger import selectors as ledger
from ledger.signing import platform_validator

from .views import _city_and_viewer, _context, _require_staff

BLOCKS_SHOWN = 10


def _labels(city, dids: set[str]) -> dict[str, str]:
    """Who holds each validator DID, as far as this instance knows (one query)."""
    labels = {platform_validator().did: "platform"}
    labels[city.identity.did] = "city"
    for identity in Identity.objects.select_related("user").filter(did__in=dids):
        labels.setdefault(identity.did, identity.user.get_full_name() or identity.user.username)
    return labels


@login_required
@require_GET
def validators(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    _require_staff(viewer)
    chain = city.chain
    schedule = ledger.chain_schedule(chain=chain)
    in_force = schedule.at(chain.block_count)
    scheduled = schedule.upcoming(chain.block_count)
    blocks = ledger.block_list(chain=chain, limit=BLOCKS_SHOWN)
    labels = _labels(city, schedule.ever_members())
    context = _context(
        city,
        viewer,
        chain=chain,
        validator_set=in_force,
        validator_rows=[(did, labels.get(did, "")) for did in in_force.members],
        scheduled_changes=scheduled,
        rotations=ledger.rotation_list(chain=chain),
        block_statuses=ledger.block_statuses(blocks=blocks, schedule=schedule),
        equivocations=ledger.equivocation_list(chain=chain, limit=10),
        latest_final=ledger.block_latest_final(chain=chain),
    )
    return render(request, "governance/validators.html", context)
