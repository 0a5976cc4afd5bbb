"""`{% checkpoint_witnesses chain block %}`: who co-signed a checkpoint, for the ledger
explorer (the chain page passes no block: the latest witnessed checkpoint; a block page
passes its block: the cosignatures of that tree size). Two or three queries."""

from __future__ import annotations

from django import template

from governance.models import City

from ..selectors import latest_witnessed

register = template.Library()


@register.inclusion_tag("witnesses/_checkpoint_witnesses.html")
def checkpoint_witnesses(chain, block=None):
    tree_size = getattr(block, "tree_size", None)
    return {
        "chain": chain,
        "witnessed": latest_witnessed(chain=chain, tree_size=tree_size),
        "city": City.objects.filter(chain=chain).only("slug").first(),
    }
