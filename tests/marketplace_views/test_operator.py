"""The operator's portal: staff of the network only. Create a city with its first
municipality staff, register providers, run the audits (never of one's own service), follow
and pay the bounties, and see every city's chain and last checkpoint."""

from __future__ import annotations

import pytest
from django.test import override_settings

from governance.models import City, CollegeKind, Membership
from ledger.services import chain_seal
from marketplace.models import Audit, Provider, Task
from marketplace.services import audit_request, provider_register
from tests.factories import UserFactory, service_make, valid_siret, version_make
from tests.marketplace.helpers import writes_nothing

from .conftest import HX, logged_in, url

pytestmark = pytest.mark.django_db

OPERATOR_PAGES = [
    ("operator_home", ()),
    ("operator_audits", ()),
    ("operator_tasks", ()),
    ("operator_city_create", ()),
    ("operator_provider_register", ()),
]


@pytest.fixture
def in_audit(service):
    version = version_make(service=service)
    audit_request(version=version, by=service.provider.owner)
    return version


@pytest.mark.parametrize("name, args", OPERATOR_PAGES)
def test_the_operator_opens_every_page(client, operator, name, args):
    logged_in(client, operator)
    assert client.get(url(name, *args)).status_code == 200


@pytest.mark.parametrize("name, args", OPERATOR_PAGES)
def test_non_staff_are_refused_and_anonymous_visitors_sent_to_log_in(
    client, provider_member, mayor, name, args
):
    target = url(name, *args)
    anonymous = client.get(target)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    for user in (provider_member.user, mayor.user):
        logged_in(client, user)
        assert client.get(target).status_code == 403


def test_a_non_staff_cannot_post_to_the_portal(client, mayor, in_audit):
    logged_in(client, mayor.user)

    with writes_nothing():
        responses = [
            client.post(
                url("operator_city_create"),
                {"name": "Lyon", "slug": "lyon", "postal_codes": "69001", "first_staff": "x"},
            ),
            client.post(
                url("operator_audit", in_audit.public_id),
                {"kind": "technical", "verdict": "pass", "findings": "ok"},
            ),
        ]

    assert [r.status_code for r in responses] == [403, 403]


def test_the_home_lists_cities_with_their_chain_height_and_last_checkpoint(
    client, operator, city, other_city, in_audit
):
    block = chain_seal(chain=city.chain)
    logged_in(client, operator)

    page = client.get(url("operator_home")).content.decode()

    assert "Bourg-en-Bresse" in page and "Annecy" in page
    assert f"/ledger/{city.chain.slug}/blocks/{block.height}/" in page
    assert block.root[:10] in page
    assert "no block sealed yet" in page  # Annecy's chain
    assert in_audit.service.name in page  # the audit queue


def test_create_a_city_and_appoint_its_first_staff(client, operator):
    future_staff = UserFactory(email="maire@lyon.example")
    logged_in(client, operator)

    response = client.post(
        url("operator_city_create"),
        {
            "name": "Lyon",
            "slug": "lyon",
            "postal_codes": "69001, 69002 69003",
            "first_staff": "MAIRE@lyon.example",
        },
    )

    assert response.status_code == 302 and response["Location"] == url("operator_home")
    city = City.objects.get(slug="lyon")
    assert city.postal_codes == ["69001", "69002", "69003"]
    assert city.chain.slug == "lyon"
    assert set(city.colleges.values_list("kind", flat=True)) == {
        CollegeKind.RESIDENTS,
        CollegeKind.PROVIDERS,
        CollegeKind.MUNICIPALITY,
    }
    staff = Membership.objects.get(city=city, user=future_staff)
    assert (staff.status, staff.college.kind) == ("approved", "municipality")


def test_a_taken_slug_is_refused_and_nothing_is_written(client, operator, city):
    staff = UserFactory()
    logged_in(client, operator)

    with writes_nothing():
        response = client.post(
            url("operator_city_create"),
            {
                "name": "Bourg",
                "slug": city.slug,
                "postal_codes": "01000",
                "first_staff": staff.username,
            },
        )

    assert response.status_code == 409
    assert "already taken" in response.content.decode()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("first_staff", "nobody@nowhere", "No active account has this username or e-mail."),
        ("postal_codes", "6900", "A postal code has five digits"),
        ("slug", "Lyon Centre", "Use lower-case letters, digits and dashes."),
    ],
)
def test_a_bad_city_form_writes_nothing(client, operator, field, value, message):
    staff = UserFactory()
    data = {"name": "Lyon", "slug": "lyon", "postal_codes": "69001", "first_staff": staff.email}
    logged_in(client, operator)

    with writes_nothing():
        response = client.post(url("operator_city_create"), {**data, field: value})

    assert response.status_code == 400
    assert message in response.content.decode()


def test_register_a_provider_for_its_owner(client, operator):
    owner = UserFactory()
    logged_in(client, operator)

    response = client.post(
        url("operator_provider_register"),
        {"owner": owner.username, "name": "Eau Claire SCOP", "siret": valid_siret()},
    )

    assert response.status_code == 302
    provider = Provider.objects.get(name="Eau Claire SCOP")
    assert (provider.owner, provider.registered_by) == (owner, operator)
    assert "Eau Claire SCOP" in client.get(url("operator_home")).content.decode()


def test_record_both_reviews_and_the_version_is_audited(client, auditor, in_audit):
    logged_in(client, auditor)
    target = url("operator_audit", in_audit.public_id)
    assert "Record a review" in client.get(target).content.decode()

    first = client.post(target, {"kind": "technical", "verdict": "pass", "findings": "Code lu."})
    second = client.post(target, {"kind": "legal", "verdict": "pass", "findings": "Conforme."})

    assert (first.status_code, second.status_code) == (302, 302)
    in_audit.refresh_from_db()
    assert in_audit.status == "audited"
    assert set(Audit.objects.filter(version=in_audit).values_list("kind", "auditor")) == {
        ("technical", auditor.pk),
        ("legal", auditor.pk),
    }
    page = client.get(target).content.decode()
    assert "This version is not awaiting an audit." in page and "Conforme." in page


def test_a_rejection_needs_its_reason_shown_in_place_for_htmx(client, auditor, in_audit):
    logged_in(client, auditor)

    with writes_nothing():
        response = client.post(
            url("operator_audit", in_audit.public_id),
            {"kind": "legal", "verdict": "fail", "findings": "Non conforme.", "reason": ""},
            **HX,
        )

    assert response.status_code == 400
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="audit-panel"')
    assert "A rejection says why." in page


def test_a_rejection_with_its_reason_rejects_the_version(client, auditor, in_audit):
    logged_in(client, auditor)

    response = client.post(
        url("operator_audit", in_audit.public_id),
        {"kind": "legal", "verdict": "fail", "findings": "Non.", "reason": "Pas de base légale."},
        **HX,
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == url("operator_audit", in_audit.public_id)
    in_audit.refresh_from_db()
    assert (in_audit.status, in_audit.status_reason) == ("rejected", "Pas de base légale.")


def test_a_provider_cannot_audit_its_own_service(client, operator):
    """An operator account that owns a provider is refused on that provider's services."""
    provider = provider_register(
        by=operator, owner=operator, name="Filiale de l'opérateur", siret=valid_siret()
    )
    version = version_make(service=service_make(provider=provider))
    audit_request(version=version, by=operator)
    logged_in(client, operator)
    target = url("operator_audit", version.public_id)

    assert "may never audit its own service" in client.get(target).content.decode()
    with writes_nothing():
        response = client.post(target, {"kind": "technical", "verdict": "pass", "findings": "ok"})

    assert response.status_code == 403
    assert not Audit.objects.filter(version=version).exists()


def test_the_same_review_twice_is_a_conflict(client, auditor, in_audit):
    logged_in(client, auditor)
    target = url("operator_audit", in_audit.public_id)
    client.post(target, {"kind": "technical", "verdict": "pass", "findings": "ok"})

    with writes_nothing():
        response = client.post(target, {"kind": "technical", "verdict": "pass", "findings": "ok"})

    assert response.status_code == 409  # AlreadyAudited


@override_settings(SMARTB_AUDIT_REWARD_CENTS={"technical": 30_000, "legal": 20_000})
def test_bounties_are_listed_filtered_and_paid(client, auditor, operator, service):
    version = version_make(service=service)
    audit_request(version=version, by=service.provider.owner)
    logged_in(client, auditor)
    client.post(
        url("operator_audit", version.public_id),
        {"kind": "technical", "verdict": "pass", "findings": "ok"},
    )
    technical = Task.objects.get(kind="audit_technical", work_id=version.pk)
    assert technical.status == "completed"

    page = client.get(url("operator_tasks")).content.decode()
    assert "300.00\xa0€" in page and "200.00\xa0€" in page
    fragment = client.get(url("operator_tasks"), {"status": "open"}, **HX).content.decode()
    assert fragment.lstrip().startswith('<div id="task-list"')
    assert "200.00\xa0€" in fragment and "300.00\xa0€" not in fragment

    response = client.post(url("operator_task_pay", technical.public_id))

    assert response.status_code == 302
    technical.refresh_from_db()
    assert technical.status == "paid" and technical.payment_entry is not None
    page = client.get(url("operator_tasks"), {"status": "paid"}).content.decode()
    assert f"#{technical.payment_entry.index}" in page


def test_paying_an_open_bounty_says_why_not(client, operator, in_audit):
    task = Task.objects.filter(work_id=in_audit.pk).first()
    logged_in(client, operator)

    response = client.post(url("operator_task_pay", task.public_id), follow=True)

    assert "Only a completed task is paid." in response.content.decode()
    task.refresh_from_db()
    assert task.status == "open"
