"""Another app (the app store) adds its share of the export with one `register_section` call."""

from __future__ import annotations

import pytest

from governance.models import Proposal
from smartb.portability import ImportRefused, register_section
from smartb.portability import registry as registry_module
from smartb.portability.registry import sections_in_order
from smartb.portability.services import city_export, city_import

from .helpers import export_dir, row_counts, wipe_database


@pytest.fixture
def extra_section(monkeypatch):
    """A section registered the way marketplace's AppConfig.ready would, removed afterwards."""
    sections_in_order()  # the built-in sections are registered before the copy
    monkeypatch.setattr(registry_module, "_SECTIONS", dict(registry_module._SECTIONS))
    imported = []

    def exporter(ctx):
        proposals = Proposal.objects.filter(city=ctx.city).order_by("pk")
        for proposal in proposals:
            ctx.include_account(proposal.author.user_id)
        return {"notes": [{"proposal": p.public_id, "stars": 3} for p in proposals]}

    def importer(ctx, tables):
        for row in tables["notes"]:
            imported.append((ctx.ref("governance.proposal", row["proposal"]), row["stars"]))

    register_section("appstore", exporter=exporter, importer=importer, after=("governance",))
    return imported


def test_a_registered_section_is_imported_after_those_it_names(city, tmp_path, extra_section):
    assert [s.name for s in sections_in_order()] == [
        "ledger",
        "identity",
        "governance",
        "appstore",
        "data_billing",
        "impact",
        "marketplace",
        "scenarios",
    ]
    directory = export_dir(tmp_path)
    city_export(city=city, directory=directory)
    assert (directory / "appstore.json").is_file()
    wipe_database()

    city_import(directory=directory)

    assert len(extra_section) == Proposal.objects.count() == 6
    assert all(proposal.pk and stars == 3 for proposal, stars in extra_section)


def test_an_export_with_a_section_this_instance_lacks_is_refused(
    city, tmp_path, extra_section, monkeypatch
):
    directory = export_dir(tmp_path)
    city_export(city=city, directory=directory)
    registry_module._SECTIONS.pop("appstore")
    wipe_database()

    counts = row_counts()
    with pytest.raises(ImportRefused, match="appstore"):
        city_import(directory=directory)
    assert row_counts() == counts


def test_a_section_name_is_a_lowercase_identifier():
    with pytest.raises(ValueError):
        register_section("App Store", exporter=dict, importer=lambda ctx, tables: None)
