from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.models import City
from smartb.portability import ExportRefused, PortabilityError
from smartb.portability.handover import KEY_FILE, passphrase_read
from smartb.portability.services import city_export


class Command(BaseCommand):
    help = (
        "Write everything a city needs to run on its own into DIR: manifest.json, its ledger "
        "bundle (ledger/<chain>.json), and one JSON file per section (accounts' username and "
        "e-mail, public DIDs and credentials, colleges, memberships, rules, proposals, "
        "electorates, ballots, comments, treasury, app store). Members' private keys never "
        "leave: custodial keys stay sealed on this platform, so after an import custodial "
        "members hold their public key only and must re-key, or export their key from their "
        "profile here first. With --handover-passphrase-file the city takes its own key: a "
        "fresh successor key, handed over on the city's chain and written encrypted to "
        f"DIR/{KEY_FILE}; the city is then marked independent here."
    )

    def add_arguments(self, parser):
        parser.add_argument("--city", required=True, help="slug of the city")
        parser.add_argument("-o", "--output", required=True, help="directory to create")
        parser.add_argument(
            "--no-seal",
            action="store_true",
            help="do not seal pending transactions first (the checkpoint then covers less)",
        )
        parser.add_argument(
            "--handover-passphrase-file",
            metavar="FILE",
            help=(
                "hand the city's key over: its first line is the passphrase (12 characters "
                f"at least) that encrypts {KEY_FILE}; send the passphrase apart from the export"
            ),
        )

    def handle(self, *args, city, output, no_seal=False, handover_passphrase_file=None, **options):
        item = City.objects.filter(slug=city).first()
        if item is None:
            raise CommandError(f"no city {city!r}")
        try:
            passphrase = (
                passphrase_read(Path(handover_passphrase_file), refused=ExportRefused)
                if handover_passphrase_file
                else None
            )
            manifest = city_export(
                city=item,
                directory=Path(output),
                seal=not no_seal,
                handover_passphrase=passphrase,
            )
        except PortabilityError as error:
            raise CommandError(error.message) from error
        chain = manifest["chain"]
        self.stdout.write(
            f"wrote {output}: {chain['size']} transactions, checkpoint at tree size "
            f"{chain['tree_size']} (block {chain['height']}), "
            + ", ".join(f"{name} {entry['rows']} rows" for name, entry in manifest["files"].items())
        )
        handover = manifest.get("handover")
        if handover:
            self.stdout.write(
                f"handed the city's key over (transaction {handover['index']}): the city "
                f"signs as {handover['successor']} after its import; its key is "
                f"{Path(output) / KEY_FILE}, encrypted with the passphrase. The city is "
                "marked independent here."
            )
