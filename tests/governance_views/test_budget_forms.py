"""Creating and amending a participatory budget call through the proposal forms: the total
budget and each project's cost typed in euros (integer cents in the database), the
recipient's DID, rows to withdraw; plain posts without JavaScript, the form alone to HTMX,
and the doors that stay shut."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from governance import services
from governance.budget import ProjectFields, budget_call_create
from governance.models import BudgetProject, Proposal
from governance.rules import default_rules
from ledger.models import Transaction
from tests.governance.helpers import adopt_rules

from .conftest import logged_in, url

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def management(total: int, initial: int = 0, prefix: str = "projects") -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "50",
    }


def row(n: int, title: str, amount: str, recipient: str, **extra) -> dict:
    fields = {"title": title, "amount": amount, "recipient": recipient, "description": "", **extra}
    return {f"projects-{n}-{name}": value for name, value in fields.items()}


def create_data(*rows: dict, total_budget: str = "1000", total: int = 3) -> dict:
    data = {
        "kind": "fund_project",
        "budget": "1",
        "title": "Budget 2027",
        "body": "Vos projets pour le quartier.",
        "total_budget": total_budget,
        **management(total),
    }
    for r in rows:
        data.update(r)
    return data


def ledger_size() -> int:
    return Transaction.objects.count()


def test_the_kind_chooser_offers_a_participatory_budget(client, city, staff):
    logged_in(client, staff.user)
    page = client.get(url("proposal_create", city)).content.decode()
    assert "?kind=fund_project&amp;budget=1" in page
    assert "Participatory budget" in page


def test_the_budget_form_has_empty_project_rows_and_works_without_javascript(client, city, staff):
    logged_in(client, staff.user)
    page = client.get(url("proposal_create", city) + "?kind=fund_project&budget=1")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="projects-TOTAL_FORMS" value="3"' in html
    assert 'name="projects-2-amount"' in html
    assert 'name="amount"' not in html  # no single-project amount on a budget call
    assert 'method="post"' in html and 'hx-post="' in html


def test_staff_create_a_budget_call_with_projects_in_euros(client, city, staff, provider):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"  # French decimal comma
    logged_in(client, staff.user)
    did = provider.identity.did
    data = create_data(
        row(0, "Aire de jeux", "600,50", did),
        row(1, "Bancs", "0,01", did, description="Dix bancs."),
        # row 2 left empty: ignored
        total_budget="1000,00",
    )
    response = client.post(url("proposal_create", city), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    call = Proposal.objects.get()
    assert response["Location"] == url("proposal_detail", city, call.public_id)
    assert (call.kind, call.author, call.parameters) == (
        "fund_project",
        staff,
        {"budget_cents": 100_000},
    )
    projects = list(call.budget_projects.order_by("position"))
    assert [(p.title, p.cost_cents, p.recipient) for p in projects] == [
        ("Aire de jeux", 60_050, did),
        ("Bancs", 1, did),
    ]
    assert all(type(p.cost_cents) is int for p in projects)
    assert projects[1].description == "Dix bancs."
    kinds = Transaction.objects.filter(chain=city.chain).values_list("kind", flat=True)
    assert list(kinds.order_by("-index")[:3])[::-1] == [
        "governance.proposal.create",
        "governance.budget.project.add",
        "governance.budget.project.add",
    ]


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([row(0, "Trop cher", "1000.01", "did:key:z6Mk")], "amount"),  # more than the budget
        ([row(0, "Centimes", "12.345", "did:key:z6Mk")], "amount"),  # three decimals
        ([row(0, "Gratuit", "0", "did:key:z6Mk")], "amount"),
        ([row(0, "Sans DID", "10", "Bob")], "recipient"),
        ([row(0, "", "10", "did:key:z6Mk")], "title"),
    ],
)
def test_a_bad_project_row_is_an_error_on_that_row(client, city, staff, rows, field):
    logged_in(client, staff.user)
    before = ledger_size()
    response = client.post(url("proposal_create", city), create_data(*rows))
    assert response.status_code == 400
    form = response.context["form"]
    assert form.projects.forms[0].errors[field]
    assert not Proposal.objects.exists() and ledger_size() == before


@pytest.mark.parametrize("total_budget", ["", "0", "12,345", "beaucoup"])
def test_a_bad_total_budget_is_a_form_error(client, city, staff, total_budget):
    logged_in(client, staff.user)
    data = create_data(row(0, "Bancs", "10", "did:key:z6Mk"), total_budget=total_budget)
    response = client.post(url("proposal_create", city), data)
    assert response.status_code == 400
    assert response.context["form"].errors["total_budget"]
    assert not Proposal.objects.exists()


def test_a_budget_call_needs_a_project(client, city, staff):
    logged_in(client, staff.user)
    response = client.post(url("proposal_create", city), create_data())
    assert response.status_code == 400
    assert "needs at least one project" in response.content.decode()
    assert not Proposal.objects.exists()


def test_htmx_gets_the_form_alone_with_its_errors_then_a_client_redirect(
    client, city, staff, provider
):
    logged_in(client, staff.user)
    bad = client.post(url("proposal_create", city), create_data(), **HX)
    assert bad.status_code == 400
    fragment = bad.content.decode()
    assert fragment.lstrip().startswith('<div id="proposal-form">')
    assert "needs at least one project" in fragment
    assert "<html" not in fragment
    good = client.post(
        url("proposal_create", city),
        create_data(row(0, "Bancs", "10", provider.identity.did)),
        **HX,
    )
    assert good.status_code == 200
    call = Proposal.objects.get()
    assert good["HX-Redirect"] == url("proposal_detail", city, call.public_id)


def test_a_college_the_rules_do_not_allow_cannot_create_a_budget_call(
    client, city, staff, resident
):
    rules = default_rules()
    rules["proposers"]["fund_project"] = ["municipality"]
    adopt_rules(city, staff, rules)
    logged_in(client, resident.user)
    chooser = client.get(url("proposal_create", city)).content.decode()
    assert "budget=1" not in chooser
    response = client.post(url("proposal_create", city), create_data(row(0, "B", "1", "did:key:z")))
    assert response.status_code == 403
    assert not Proposal.objects.filter(kind="fund_project").exists()


def test_anonymous_is_sent_to_log_in_and_strangers_get_403(client, city, foreigner, outsider):
    response = client.get(url("proposal_create", city) + "?kind=fund_project&budget=1")
    assert response.status_code == 302 and "login" in response["Location"]
    for user in (foreigner, outsider):
        logged_in(client, user)
        response = client.post(
            url("proposal_create", city), create_data(row(0, "B", "1", "did:key:z"))
        )
        assert response.status_code == 403
    assert not Proposal.objects.exists()


# --- amending a draft budget call -----------------------------------------------------------


@pytest.fixture
def draft_call(staff, provider):
    did = provider.identity.did
    return budget_call_create(
        author=staff,
        title="Budget 2027",
        budget_cents=100_000,
        projects=[
            ProjectFields(title="Aire de jeux", cost_cents=60_000, recipient=did),
            ProjectFields(title="Bancs", cost_cents=50_000, recipient=did),
            ProjectFields(title="Composteurs", cost_cents=30_000, recipient=did),
        ],
    )


def amend_data(call, *rows: dict, total_budget: str = "1000", total: int | None = None) -> dict:
    projects = list(call.budget_projects.order_by("position"))
    data = {
        "kind": "fund_project",
        "title": "Budget 2027 (révisé)",
        "body": "",
        "total_budget": total_budget,
        **management(total if total is not None else len(projects) + 3, initial=len(projects)),
    }
    for n, project in enumerate(projects):  # the rows as the form shows them
        data.update(
            row(
                n,
                project.title,
                f"{project.cost_cents // 100}.{project.cost_cents % 100:02d}",
                project.recipient,
                project=project.public_id,
                description=project.description,
            )
        )
    for r in rows:
        data.update(r)
    return data


def test_the_amend_form_shows_the_projects_of_the_draft(client, city, staff, draft_call):
    logged_in(client, staff.user)
    page = client.get(url("proposal_amend", city, draft_call.public_id))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="projects-TOTAL_FORMS" value="6"' in html
    assert 'value="Aire de jeux"' in html
    assert 'name="projects-0-amount" value="600.00"' in html
    assert 'name="total_budget" value="1000.00"' in html
    assert "Withdraw this project" in html


def test_the_author_changes_withdraws_and_adds_projects(client, city, staff, provider, draft_call):
    logged_in(client, staff.user)
    did = provider.identity.did
    aire, bancs, composteurs = draft_call.budget_projects.order_by("position")
    data = amend_data(
        draft_call,
        row(0, "Aire de jeux", "550", did, project=aire.public_id),  # cheaper
        {"projects-1-DELETE": "on"},  # Bancs withdrawn
        row(3, "Fontaine", "99.99", did),  # a new project
        total_budget="900",
    )
    response = client.post(url("proposal_amend", city, draft_call.public_id), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    draft_call.refresh_from_db()
    assert draft_call.parameters == {"budget_cents": 90_000}
    assert draft_call.title == "Budget 2027 (révisé)"
    rows = draft_call.budget_projects.order_by("position").values_list("title", "cost_cents")
    assert list(rows) == [("Aire de jeux", 55_000), ("Composteurs", 30_000), ("Fontaine", 9_999)]
    chain = Transaction.objects.filter(chain=city.chain)
    assert chain.filter(kind="governance.budget.project.amend").count() == 1  # only Aire changed
    assert chain.filter(kind="governance.budget.project.remove").get().payload["project"] == (
        bancs.public_id
    )


def test_a_budget_lowered_under_a_project_is_refused_and_writes_nothing(
    client, city, staff, draft_call
):
    logged_in(client, staff.user)
    before = ledger_size()
    response = client.post(
        url("proposal_amend", city, draft_call.public_id),
        amend_data(draft_call, total_budget="550"),
    )
    assert response.status_code == 400
    errors = response.context["form"].projects.forms[0].errors
    assert "more than the whole budget" in errors["amount"][0]
    draft_call.refresh_from_db()
    assert draft_call.parameters == {"budget_cents": 100_000}
    assert ledger_size() == before


def test_only_the_author_amends_and_only_a_draft(
    client, city, staff, resident, neighbour, draft_call
):
    logged_in(client, resident.user)  # a member who may not see the draft
    assert client.get(url("proposal_amend", city, draft_call.public_id)).status_code == 404
    services.proposal_open(
        proposal=draft_call, by=staff, closes_at=timezone.now() + timedelta(hours=48)
    )
    response = client.post(
        url("proposal_amend", city, draft_call.public_id), amend_data(draft_call)
    )
    assert response.status_code == 403
    logged_in(client, staff.user)
    response = client.post(
        url("proposal_amend", city, draft_call.public_id), amend_data(draft_call)
    )
    assert response.status_code == 409
    assert "Only a draft can be amended" in response.content.decode()
    assert BudgetProject.objects.filter(proposal=draft_call).count() == 3
