"""What the ledger commands share: `--chain SLUG` or every chain."""

from django.core.management.base import CommandError

from ledger.models import Chain


def add_chain_option(parser, verb: str) -> None:
    parser.add_argument("--chain", help=f"slug of the chain to {verb} (default: every chain)")


def selected_chains(slug: str | None):
    chains = Chain.objects.order_by("slug")
    if slug:
        chains = chains.filter(slug=slug)
        if not chains.exists():
            raise CommandError(f"no chain {slug!r}")
    return chains
