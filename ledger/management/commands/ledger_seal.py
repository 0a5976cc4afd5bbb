from django.core.management.base import BaseCommand

from ledger.services import chain_seal

from ._chains import add_chain_option, selected_chains


class Command(BaseCommand):
    help = "Seal pending transactions into a block, now (every chain, or one)."

    def add_arguments(self, parser):
        add_chain_option(parser, "seal")

    def handle(self, *args, chain=None, **options):
        for item in selected_chains(chain):
            block = chain_seal(chain=item)
            if block is None:
                self.stdout.write(f"{item.slug}: nothing to seal (size {item.size})")
            else:
                self.stdout.write(
                    f"{item.slug}: sealed block {block.height} at tree size {block.tree_size}"
                )
