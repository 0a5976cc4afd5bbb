import sys

from django.core.management.base import BaseCommand, CommandError

from ledger.integrity import verify_chain
from ledger.models import Chain


class Command(BaseCommand):
    help = (
        "Recompute every signature, leaf, Merkle root, stored subtree, block hash and link. "
        "Exits 1 naming the first bad block height and transaction index."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chain", help="slug of the chain to verify (default: every chain)")

    def handle(self, *args, chain=None, **options):
        chains = Chain.objects.order_by("slug")
        if chain:
            chains = chains.filter(slug=chain)
            if not chains.exists():
                raise CommandError(f"no chain {chain!r}")
        failed = False
        for item in chains:
            report = verify_chain(item)
            if report.failure is None:
                self.stdout.write(
                    f"OK {item.slug}: {report.transactions} transactions, {report.blocks} blocks"
                )
            else:
                failed = True
                self.stderr.write(f"FAILED {item.slug}: {report.failure}")
        if failed:
            sys.exit(1)
