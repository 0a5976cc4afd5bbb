from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from smartb.portability import PortabilityError
from smartb.portability.handover import city_key_read
from smartb.portability.services import city_import


class Command(BaseCommand):
    help = (
        "Build the city exported in DIR (by city_export) into this instance. Refuses, writing "
        "nothing, when a file does not match its digest, the ledger does not verify, or the "
        "city already exists here. Members' private keys are never in an export: every "
        "imported identity holds its public key only (custodial members must re-key or "
        "import their own key before signing here). The city itself signs only with the key "
        "its origin handed over: give --city-key-file and --city-key-passphrase-file (again "
        "later, for a city imported without them, to install its key)."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="a directory written by city_export")
        parser.add_argument(
            "--validator",
            action="append",
            metavar="DID",
            help=(
                "a validator DID whose seals you trust (repeatable; default: this instance's "
                "own validator). Compare it with the DID the city publishes."
            ),
        )
        parser.add_argument(
            "--city-key-file",
            metavar="PATH",
            help="the city's key handed over by the export (city-key.pem, encrypted)",
        )
        parser.add_argument(
            "--city-key-passphrase-file",
            metavar="FILE",
            help="a file whose first line is the passphrase of the city's key",
        )

    def handle(
        self,
        *args,
        directory,
        validator=None,
        city_key_file=None,
        city_key_passphrase_file=None,
        **options,
    ):
        if bool(city_key_file) != bool(city_key_passphrase_file):
            raise CommandError(
                "--city-key-file and --city-key-passphrase-file go together: give both or none"
            )
        try:
            key = (
                city_key_read(Path(city_key_file), Path(city_key_passphrase_file))
                if city_key_file
                else None
            )
            report = city_import(directory=Path(directory), validators=validator, city_key=key)
        except PortabilityError as error:
            raise CommandError(error.message) from error
        if report.key_only:
            self.stdout.write(
                f"installed the key of {report.city}: the city signs as {report.city_did}"
            )
            return
        self.stdout.write(
            f"imported {report.city}: {report.transactions} transactions, "
            f"{report.blocks} blocks, ledger verified"
        )
        self.stdout.write(report.checkpoint)
        if report.can_sign:
            self.stdout.write(f"the city's key is installed: the city signs as {report.city_did}")
        else:
            self.stdout.write(
                "THE CITY CANNOT SIGN until its key is installed: closing and executing votes, "
                "approving members and treasury moves will fail. "
                + (
                    "Run this command again with --city-key-file and "
                    "--city-key-passphrase-file to install the key its origin handed over."
                    if report.handover
                    else "Its origin handed no key over: ask for an export made with "
                    "--handover-passphrase-file."
                )
            )
        if report.public_key_only:
            self.stdout.write(
                f"{report.public_key_only} identities were custodial at the origin: their "
                "private keys stayed there, they must re-key or import their key to sign here."
            )
