import sys

from django.core.management.base import BaseCommand

from ledger.integrity import verify_chain

from ._chains import add_chain_option, selected_chains


class Command(BaseCommand):
    help = (
        "Recompute every signature, leaf, Merkle root, stored subtree, block hash and link. "
        "Exits 1 naming the first bad block height and transaction index."
    )

    def add_arguments(self, parser):
        add_chain_option(parser, "verify")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes checking signatures (default: every core for chains of 20,000+)",
        )

    def handle(self, *args, chain=None, workers=None, **options):
        failed = False
        for item in selected_chains(chain):
            report = verify_chain(item, workers=workers)
            if report.failure is None:
                self.stdout.write(
                    f"OK {item.slug}: {report.transactions} transactions, {report.blocks} blocks"
                )
            else:
                failed = True
                self.stderr.write(f"FAILED {item.slug}: {report.failure}")
        if failed:
            sys.exit(1)
