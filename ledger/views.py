"""Public ledger explorer pages (HTMX-enhanced, all usable without JavaScript)."""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from . import selectors
from .errors import LedgerError
from .receipt_check import CHECK_LABELS, all_checkpoint_keys, receipt_check


def chain_list(request):
    return render(request, "ledger/chain_list.html", {"chains": selectors.chain_list()})


@vary_on_headers("HX-Request")
def chain_detail(request, slug: str):
    chain = selectors.chain_get(slug=slug)
    latest = selectors.block_latest_final(chain=chain)
    entries = Paginator(chain.entries.order_by("-index"), 25).get_page(request.GET.get("page"))
    schedule = selectors.chain_schedule(chain=chain)
    blocks = selectors.block_list(chain=chain, limit=10)
    context = {
        "chain": chain,
        "blocks": blocks,
        "block_statuses": selectors.block_statuses(blocks=blocks, schedule=schedule),
        "validator_set": schedule.at(chain.block_count),
        "scheduled_changes": schedule.upcoming(chain.block_count),
        "rotations": selectors.rotation_list(chain=chain),
        "equivocations": selectors.equivocation_list(chain=chain, limit=10),
        "checkpoint_block": latest,
        "awaiting_count": chain.block_count - 1 - latest.height if latest else chain.block_count,
        "entries": entries,
        "checkpoint": selectors.block_checkpoint(block=latest, chain_slug=chain.slug)
        if latest
        else None,
    }
    template = "ledger/chain_detail.html"
    if request.htmx and request.htmx.target == "entries":
        template += "#entries"
    return render(request, template, context)


def block_detail(request, slug: str, height: int):
    chain = selectors.chain_get(slug=slug)
    block = selectors.block_get(chain=chain, height=height)
    previous = chain.blocks.filter(height=height - 1).values_list("tree_size", flat=True).first()
    first = previous or 0
    entries = Paginator(selectors.entry_list(chain=chain, start=first, stop=block.tree_size), 50)
    status = selectors.block_statuses(
        blocks=[block], schedule=selectors.chain_schedule(chain=chain)
    )
    return render(
        request,
        "ledger/block_detail.html",
        {
            "chain": chain,
            "the_block": block,
            "status": status[0],
            "first_index": first,
            "entries": entries.get_page(request.GET.get("page")),
            "checkpoint": selectors.block_checkpoint(block=block, chain_slug=chain.slug),
        },
    )


def entry_detail(request, slug: str, index: int):
    chain = selectors.chain_get(slug=slug)
    entry = selectors.entry_get(chain=chain, index=index)
    receipt = selectors.receipt_for(entry=entry)
    return render(
        request,
        "ledger/entry_detail.html",
        {
            "chain": chain,
            "entry": entry,
            "payload_json": json.dumps(entry.payload, indent=2, ensure_ascii=False),
            "the_block": selectors.block_containing(chain=chain, index=index),
            "receipt": receipt,
            "receipt_json": json.dumps(receipt, indent=2) if receipt else "",
        },
    )


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def receipt_verify(request):
    text = request.POST.get("receipt", "") if request.method == "POST" else ""
    result = error = None
    if request.method == "POST":
        try:
            receipt = json.loads(text)
        except ValueError:
            error = _("This is not JSON. Paste the receipt exactly as you received it.")
        else:
            try:
                result = receipt_check(receipt)
            except LedgerError as failure:
                error = failure.message
    template = "ledger/receipt_verify.html"
    context = {"text": text, "result": result, "error": error}
    if request.htmx:
        template += "#result"
    else:
        keys = browser_trusted_keys()
        context["trusted_keys"] = keys
        context["browser_config"] = {"trusted": keys, "labels": browser_labels()}
    return render(request, template, context, status=400 if error else 200)


def browser_trusted_keys() -> list[dict]:
    """The checkpoint keys of every chain, published for the in-browser check."""
    slugs = list(selectors.chain_list().values_list("slug", flat=True))
    return [
        {"chain": slug, "key_name": name, "public_key": key.hex(), "validator": did}
        for slug, keys in all_checkpoint_keys(chain_slugs=slugs).items()
        for name, key, did in keys
    ]


def browser_labels() -> dict:
    return {
        **{code: str(label) for code, label in CHECK_LABELS.items()},
        "holds": _("The receipt holds (checked in your browser)."),
        "fails": _("The receipt does not hold (checked in your browser)."),
        "error": _("Not checked:"),
    }
