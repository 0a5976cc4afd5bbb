from django.core.management.base import BaseCommand, CommandError

from ledger.export import write_bundle
from ledger.models import Chain


class Command(BaseCommand):
    help = (
        "Write a self-contained bundle of a chain, checkable with `python -m ledger.verify_bundle`."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chain", required=True, help="slug of the chain")
        parser.add_argument("-o", "--output", required=True, help="file to write")

    def handle(self, *args, chain, output, **options):
        item = Chain.objects.filter(slug=chain).first()
        if item is None:
            raise CommandError(f"no chain {chain!r}")
        with open(output, "w", encoding="utf-8") as handle:
            counts = write_bundle(item, handle)
        self.stdout.write(
            f"wrote {output}: {counts['transactions']} transactions, {counts['blocks']} blocks"
        )
