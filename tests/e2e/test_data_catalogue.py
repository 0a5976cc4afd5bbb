"""The data catalogue in the browser: the demo provider describes a dataset, adds a version
and uploads its file in chunks with the progress bar (static/js/upload.js, through the API),
and the file's SHA-256 shows on the dataset's page; it links a field to a term of an accepted
ontology; the city's data curator accepts the link in the curators' queue; the catalogue's
ontology filter then finds the dataset.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from playwright.sync_api import expect

from marketplace.data.models import Dataset, Distribution, FieldMapping, OntologyTerm

from .conftest import DEMO_CITY, DEMO_PASSWORD, pass_second_factor, prepare_context

DEMO_PROVIDER = "provider@demo.smartb.fr"
DEMO_DATA_CURATOR = "donnees@demo.smartb.fr"
DATA_URL = f"/c/{DEMO_CITY}/data/"
TITLE = "Arceaux vélo : occupation"
COUNTER = "https://vocab.smartb.fr/mobilite#CyclingCounter"
CHUNK_BYTES = 1024


def parking_csv() -> bytes:
    """About 5 KB: a few chunks of CHUNK_BYTES."""
    lines = ["counter_id,date,hour,occupied"]
    for day in range(1, 8):
        for hour in range(6, 22):
            lines.append(f"MTP-ARC-{day % 3:02d},2026-04-{day:02d},{hour:02d},{(day * hour) % 24}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(autouse=True)
def small_chunks(settings, tmp_path):
    """Encrypted files in a temporary folder; chunks small enough to move the progress bar
    several times (the live server runs in this process: it reads these settings)."""
    settings.SMARTB_DATA_ROOT = str(tmp_path / "data")
    settings.SMARTB_DATA_MAX_CHUNK_BYTES = CHUNK_BYTES


@pytest.fixture
def open_browser(new_context, base_url):
    """A page in a new, English browser context; no uncaught JavaScript error allowed."""
    errors = []

    def open_page():
        context = new_context()
        prepare_context(context, base_url, english=True)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        page.on("console", lambda m: m.type == "error" and errors.append(f"{page.url}: {m.text}"))
        return page

    yield open_page
    assert errors == [], errors


def log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    pass_second_factor(page, email)
    expect(page).to_have_url(re.compile(r"/me/$"))


@pytest.mark.django_db(transaction=True)
def test_publish_upload_link_curate_and_find(open_browser, demo_ledger):
    content = parking_csv()
    sha256 = hashlib.sha256(content).hexdigest()

    # 1. The provider describes the dataset (DCAT-AP) for its organisation.
    provider = open_browser()
    log_in(provider, DEMO_PROVIDER)
    provider.goto(f"/c/{DEMO_CITY}/")
    provider.get_by_role("navigation", name="Montpellier: sections").get_by_role(
        "link", name="Data catalogue"
    ).click()
    provider.get_by_role("link", name="Publish a dataset").click()
    provider.get_by_label("Published by").select_option(label="Vélo Services")
    provider.get_by_label("Title").fill(TITLE)
    provider.get_by_label("Description").fill("Occupation horaire des arceaux vélo des gares.")
    provider.get_by_label("transport", exact=True).check()
    provider.get_by_label("Keywords").fill("vélo, stationnement")
    provider.get_by_label("Licence").fill(
        "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
    )
    provider.get_by_label("Update frequency").select_option("HOURLY")
    provider.get_by_label("Contact point: name").fill("Vélo Services")
    provider.get_by_label("Contact point: e-mail").fill("donnees@velo.example.fr")
    provider.get_by_role("button", name="Publish the description").click()
    expect(provider.locator("#messages")).to_contain_text("Dataset published in the catalogue.")
    dataset = Dataset.objects.get(title=TITLE)
    assert dataset.publisher_provider.name == "Vélo Services"

    # 2. A version, then its file: sent in chunks by upload.js, with the progress bar.
    provider.get_by_label("Version").fill("2026-04")
    provider.get_by_role("button", name="Add the version").click()
    expect(provider.locator("#messages")).to_contain_text("Version 2026-04 added")
    chunks = []
    provider.on(
        "request",
        lambda request: "/chunks/" in request.url and chunks.append(request.method),
    )
    provider.get_by_label(re.compile(r"^File")).set_input_files(
        {"name": "arceaux.csv", "mimeType": "text/csv", "buffer": content}
    )
    provider.get_by_label("Format").select_option("CSV")
    provider.get_by_label("Title of the file").fill("Semaine du 1er avril")
    provider.get_by_role("button", name="Upload the file").click()
    status = provider.locator("#upload-status")
    expect(status).to_contain_text(
        f"Done: the file is encrypted and recorded. Its SHA-256 is {sha256}"
    )
    expect(provider.locator("#upload-bar")).to_have_attribute("value", "100")
    assert chunks == ["PUT"] * -(-len(content) // CHUNK_BYTES)  # every chunk, once
    distribution = Distribution.objects.get(version__dataset=dataset)
    assert (distribution.sha256, distribution.byte_size) == (sha256, len(content))
    assert distribution.chunk_count == len(chunks)

    provider.get_by_role("link", name="See the dataset").click()
    row = provider.locator(f"#distribution-{distribution.public_id}")
    expect(row.get_by_test_id("sha256")).to_have_text(sha256)
    expect(row).to_contain_text("hosted, encrypted")

    # 3. It links a field to a term of the demo's accepted mobility ontology.
    provider.get_by_role("link", name="Link a field to an ontology").click()
    term = OntologyTerm.objects.get(iri=COUNTER, ontology__status="accepted")
    provider.get_by_label(re.compile(r"^Field")).fill("counter_id")
    provider.get_by_label("Ontology term").select_option(f"{term.ontology.public_id} {COUNTER}")
    provider.get_by_role("button", name="Propose the link").click()  # HTMX, then redirected
    expect(provider).to_have_url(re.compile(rf"{DATA_URL}d/{dataset.public_id}/$"))
    mapping = FieldMapping.objects.get(dataset=dataset)
    expect(provider.locator(f"#mapping-{mapping.public_id}")).to_contain_text(
        "waiting for curators"
    )

    # 4. The city's data curator accepts it in the queue (HTMX swaps the item).
    curator = open_browser()
    log_in(curator, DEMO_DATA_CURATOR)
    curator.goto(DATA_URL)
    curator.get_by_role("link", name="Curators' queue").first.click()
    item = curator.locator(f"#curate-{mapping.public_id}")
    expect(item).to_contain_text(TITLE)
    item.get_by_role("button", name="Accept").click()
    expect(item.get_by_test_id("curation-result")).to_contain_text("You accepted it.")
    expect(item).to_contain_text("Decided: accepted.")
    mapping.refresh_from_db()
    assert mapping.status == "accepted"
    curator.get_by_role("link", name="My curation rewards").first.click()
    expect(curator.get_by_role("main")).to_contain_text(TITLE)

    # 5. Anyone finds the dataset with the catalogue's ontology filter.
    visitor = open_browser()
    visitor.goto(DATA_URL)
    expect(visitor.locator("#dataset-list")).to_contain_text("Qualité de l'air")
    visitor.get_by_label("Ontology term").select_option(COUNTER)  # HTMX on change
    expect(visitor).to_have_url(re.compile(r"ontology_class="))
    results = visitor.locator("#dataset-list")
    expect(results).to_contain_text(TITLE)
    expect(results).to_contain_text("Compteurs vélo : passages par jour")  # the demo's
    expect(results).not_to_contain_text("Qualité de l'air")
    expect(results.get_by_test_id("dataset-count")).to_have_text("2 datasets")
