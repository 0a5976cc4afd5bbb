"""Rebuild (or check) the impact dashboard's roll-up from the claims, batches and holdings."""

from django.core.management.base import BaseCommand, CommandError

from governance.models import City
from impact.selectors import rollup_differences
from impact.services import rollup_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the impact dashboard's roll-up (ImpactMonth, TokenTotal, ClaimCount) of every "
        "city, or of one, from its claims, batches and holdings; with --check, write nothing "
        "and exit 1 if the stored roll-up differs from the one computed afresh."
    )

    def add_arguments(self, parser):
        parser.add_argument("--city", help="slug of the city (default: every city)")
        parser.add_argument(
            "--check", action="store_true", help="compare only, write nothing (exit 1 on drift)"
        )

    def handle(self, *args, city=None, check=False, **options):
        cities = City.all_bodies.order_by("slug")
        if city:
            cities = cities.filter(slug=city)
            if not cities.exists():
                raise CommandError(f"no city {city!r}")
        drifted = 0
        for item in cities:
            if check:
                lines = rollup_differences(city=item)
                drifted += bool(lines)
                self.stdout.write(f"{item.slug}: {'differs' if lines else 'agrees'}")
                for line in lines:
                    self.stdout.write(f"  {line}")
                continue
            written = rollup_rebuild(city=item)
            self.stdout.write(
                f"{item.slug}: {written['months']} month rows, {written['token_totals']} token "
                f"classes, {written['claim_counts']} claim states"
            )
        if drifted:
            raise CommandError(f"the roll-up differs from the claims in {drifted} cities")
