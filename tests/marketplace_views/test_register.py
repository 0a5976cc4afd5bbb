"""The city's record of processing (GDPR Article 30), generated from the declarations of
the services it runs: a printable page and a CSV file. Public: a municipality's record is a
communicable administrative document, and it names categories of data, never a person."""

from __future__ import annotations

import csv
import io

import pytest

from tests.factories import audited_version_make, service_make
from tests.marketplace.helpers import decide

from .conftest import url

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployed(city, mayor, version):
    decide(mayor, version)
    return version


@pytest.fixture
def not_deployed(provider, auditor):
    return audited_version_make(
        service=service_make(provider=provider, name="Caméras discrètes"), auditor=auditor
    )


def test_the_printable_register_lists_the_services_running_here(
    client, city, deployed, not_deployed
):
    response = client.get(url("register", city.slug))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Record of processing activities" in page
    assert "Vélos partagés" in page and "Caméras discrètes" not in page
    assert "Réserver un vélo et facturer la location." in page
    assert "identifiant de compte; trajets" in page
    assert "Performance of a contract (art. 6-1-b)" in page
    assert deployed.declaration_digest in page
    assert 'class="button-group no-print"' in page  # hidden when printed (smartb.css)
    assert url("register_csv", city.slug) in page


def _rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.parametrize("how", ["query", "path"])
def test_the_csv_has_one_row_per_running_service(client, city, deployed, not_deployed, how):
    target = (
        url("register", city.slug) + "?format=csv"
        if how == "query"
        else url("register_csv", city.slug)
    )

    response = client.get(target)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="gdpr-art30-bourg-')
    header, *rows = _rows(response)
    assert header[:2] == ["Processing (service)", "Processor (provider)"]
    assert len(header) == 13
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["Processing (service)"] == "Vélos partagés"
    assert row["Categories of personal data"] == "identifiant de compte; trajets"
    assert row["Declaration SHA-256"] == deployed.declaration_digest


def test_a_city_running_nothing_has_an_empty_register(client, city, version):
    page = client.get(url("register", city.slug)).content.decode()
    assert "no processing to record" in page
    assert len(_rows(client.get(url("register_csv", city.slug)))) == 1  # the header only


def test_a_providers_text_never_runs_as_a_spreadsheet_formula(
    client, city, mayor, provider, auditor
):
    version = audited_version_make(
        service=service_make(provider=provider, name='=HYPERLINK("http://x")'),
        auditor=auditor,
        purposes="+1 calcul",
    )
    decide(mayor, version)

    header, row = _rows(client.get(url("register_csv", city.slug)))

    assert row[0] == '\'=HYPERLINK("http://x")'
    assert row[header.index("Purposes")] == "'+1 calcul"


def test_the_register_of_an_unknown_city_is_404(client):
    assert client.get(url("register", "nowhere")).status_code == 404
    assert client.get(url("register_csv", "nowhere")).status_code == 404
