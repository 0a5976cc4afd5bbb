from governance.services import proposal_execute
from marketplace.models import Task
from tests.governance.helpers import draft, fund
from tests.marketplace.helpers import accept

from .support import Api, assert_error

DIGEST = "c" * 64


def test_the_bounty_lifecycle_of_a_city(city, staff, mayor, resident):
    posted = Api(staff).post(
        "tasks/",
        {
            "kind": "verify_claim",
            "title": "Vérifier la mesure",
            "reward_cents": 900,
            "payer": "city",
            "city": "bourg",
        },
    )
    assert posted.status_code == 201, posted.content
    task = posted.json()["public_id"]
    assert Api().get("tasks/", {"status": "open"}).json()["results"][0]["public_id"] == task
    claimed = Api(resident.user).post(f"tasks/{task}/claim")
    assert claimed.json()["claimant"] == resident.identity.did
    assert_error(Api(resident.user).post(f"tasks/{task}/claim"), 409)
    assert_error(Api(staff).post(f"tasks/{task}/complete", {"result": DIGEST}), 403)
    done = Api(resident.user).post(f"tasks/{task}/complete", {"result": DIGEST})
    assert done.json()["status"] == "completed"
    assert_error(Api(resident.user).post(f"tasks/{task}/pay"), 403)
    assert Api(staff).post(f"tasks/{task}/pay").json()["status"] == "owed"
    fund(city, 10_000)
    decision = proposal_execute(
        proposal=accept(
            draft(mayor, "fund_project", amount_cents=900, recipient=resident.identity.did),
            [mayor],
        )
    )
    assert_error(Api(staff).post(f"tasks/{task}/pay", {"proposal": "nope"}), 400)
    paid = Api(staff).post(f"tasks/{task}/pay", {"proposal": decision.public_id})
    assert paid.status_code == 200, paid.content
    assert (paid.json()["status"], paid.json()["funding_proposal"]) == ("paid", decision.public_id)
    assert Api().get(f"tasks/{task}/").json()["status"] == "paid"


def test_posting_bounties_is_for_payers(city, resident, operator):
    body = {"kind": "curate_dataset", "title": "t", "reward_cents": 1, "payer": "operator"}
    assert_error(Api().post("tasks/", body), 401)
    assert_error(Api(resident.user).post("tasks/", body), 403)
    assert_error(Api(operator).post("tasks/", {**body, "reward_cents": -1}), 400)
    assert_error(Api(operator).post("tasks/", {**body, "payer": "city", "city": "nowhere"}), 404)
    assert Api(operator).post("tasks/", body).status_code == 201
    assert Task.objects.count() == 1


def test_audit_tasks_are_claimed_by_operator_auditors_not_the_provider(service, auditor):
    from tests.factories import version_make

    version = version_make(service=service)
    tasks = Api(service.provider.owner).post(f"versions/{version.public_id}/audit-request").json()
    technical = next(t for t in tasks if t["kind"] == "audit_technical")
    assert technical["work"] == f"marketplace.serviceversion:{version.public_id}"
    assert_error(
        Api(service.provider.owner).post(f"tasks/{technical['public_id']}/claim"),
        403,
        "not_qualified",
    )
    assert Api(auditor).post(f"tasks/{technical['public_id']}/claim").status_code == 200
    assert_error(Api().get("tasks/nope/"), 404)
    assert_error(Api().get("tasks/", {"kind": "nope"}), 400)
