import sys

from django.core.management.base import BaseCommand

from ledger.integrity import verify_chain

from ._chains import add_chain_option, selected_chains


class Command(BaseCommand):
    help = (
        "Recompute every signature, leaf, Merkle root, stored subtree, block hash and link, and "
        "each block's quorum of the validators in force at its height. Exits 1 naming the "
        "first bad block height and transaction index."
    )

    def add_arguments(self, parser):
        add_chain_option(parser, "verify")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes checking signatures (default: every core for chains of 20,000+)",
        )
        parser.add_argument(
            "--require-final",
            action="store_true",
            help="fail on blocks still awaiting a quorum of validator signatures",
        )

    def handle(self, *args, chain=None, workers=None, require_final=False, **options):
        failed = False
        for item in selected_chains(chain):
            report = verify_chain(item, workers=workers, require_final=require_final)
            if report.failure is None:
                self.stdout.write(
                    f"OK {item.slug}: {report.transactions} transactions, {report.blocks} blocks"
                )
                if report.awaiting:
                    heights = ", ".join(str(h) for h in report.awaiting)
                    self.stdout.write(
                        f"  not final yet (short of the validators' quorum): block heights "
                        f"{heights}; the first is {report.awaiting[0]}"
                    )
            else:
                failed = True
                self.stderr.write(f"FAILED {item.slug}: {report.failure}")
        if failed:
            sys.exit(1)
