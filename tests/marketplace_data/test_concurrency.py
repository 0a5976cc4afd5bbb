"""Simultaneous requests on PostgreSQL: curators deciding at once decide an ontology once;
the same chunk sent twice at once is stored once. The city's ledger stays gap-free."""

from __future__ import annotations

import pytest

from marketplace.data.errors import WrongState
from marketplace.data.models import Curation, ReviewStatus
from marketplace.data.services import (
    curation_record,
    dataset_version_add,
    ontology_submit,
    upload_chunk,
    upload_complete,
    upload_start,
)
from marketplace.data.storage import distribution_open
from marketplace.models import Task
from tests.conftest import require_postgres
from tests.factories import dataset_make
from tests.governance.helpers import city_transactions, join
from tests.governance.test_concurrency import run_together

from .ontologies import AIR_TTL

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres():
    require_postgres()


def test_curators_deciding_at_once_decide_once(city, staff, resident, curators):
    ontology = ontology_submit(
        by=resident.user,
        city=city,
        name="Air",
        namespace="https://vocab.smartb.example.org/air#",
        version="1",
        format="turtle",
        source=AIR_TTL,
    )
    members = [join(city, "curators", by=staff) for _ in range(4)]
    failures = run_together(
        lambda n: curation_record(by=members[n].user, ontology=ontology, decision="accept"),
        count=4,
    )
    assert len(failures) == 3 and all(isinstance(f, WrongState) for f in failures)
    ontology.refresh_from_db()
    assert ontology.status == ReviewStatus.ACCEPTED
    assert Curation.objects.count() == 1 and Task.objects.count() == 1
    assert city_transactions(city, "marketplace.ontology.decide").count() == 1
    indexes = list(city_transactions(city).values_list("index", flat=True))
    assert indexes == list(range(len(indexes)))


def test_a_chunk_sent_twice_at_once_is_stored_once(city, staff):
    version = dataset_version_add(by=staff, dataset=dataset_make(city=city, by=staff))
    content = b"a,b\n" + b"1,2\n" * 1000
    upload = upload_start(
        by=staff, version=version, format="CSV", media_type="text/csv", byte_size=len(content)
    )
    failures = run_together(
        lambda n: upload_chunk(by=staff, upload=upload, index=0, data=content), count=4
    )
    assert len(failures) == 3 and all(isinstance(f, WrongState) for f in failures)
    distribution = upload_complete(by=staff, upload=upload)
    assert b"".join(distribution_open(distribution)) == content
