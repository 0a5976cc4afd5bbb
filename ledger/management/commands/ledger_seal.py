from django.core.management.base import BaseCommand, CommandError

from ledger.models import Chain
from ledger.services import chain_seal


class Command(BaseCommand):
    help = "Seal pending transactions into a block, now (every chain, or one)."

    def add_arguments(self, parser):
        parser.add_argument("--chain", help="slug of the chain to seal (default: every chain)")

    def handle(self, *args, chain=None, **options):
        chains = Chain.objects.order_by("slug")
        if chain:
            chains = chains.filter(slug=chain)
            if not chains.exists():
                raise CommandError(f"no chain {chain!r}")
        for item in chains:
            block = chain_seal(chain=item)
            if block is None:
                self.stdout.write(f"{item.slug}: nothing to seal (size {item.size})")
            else:
                self.stdout.write(
                    f"{item.slug}: sealed block {block.height} at tree size {block.tree_size}"
                )
