import pytest

from marketplace.errors import InvalidInput, NotAllowed
from marketplace.models import TaskStatus
from marketplace.services import task_create
from marketplace.services.bounties import task_work
from tests.governance.helpers import city_transactions

from .helpers import writes_nothing


def test_the_operator_posts_a_bounty_it_pays(operator, version):
    task = task_create(
        by=operator,
        kind="curate_dataset",
        title="Relier le jeu de données des pistes cyclables",
        reward_cents=5_000,
        payer="operator",
        work=version,
    )
    assert (task.status, task.payer, task.reward_cents) == (TaskStatus.OPEN, "operator", 5_000)
    assert task_work(task) == version
    entry = version.entry.chain.entries.get(kind="marketplace.task.create")
    assert entry.actor == operator.primary_identity.did
    assert entry.payload == {
        "task": task.public_id,
        "kind": "curate_dataset",
        "reward_cents": 5_000,
        "payer": "operator",
        "city": None,
        "work": f"marketplace.serviceversion:{version.public_id}",
    }


def test_a_city_staff_posts_the_city_bounties_on_its_chain(city, staff):
    task = task_create(
        by=staff, kind="verify_claim", title="Vérifier", reward_cents=1_000, payer="city", city=city
    )
    assert task.city == city
    assert city_transactions(city, "marketplace.task.create").get().actor == (
        staff.primary_identity.did
    )


def test_who_posts_what(city, other_city, staff, resident, operator):
    cases = [
        (resident.user, "operator", None),
        (resident.user, "city", city),
        (staff, "operator", None),
        (staff, "city", other_city),
        (operator, "city", city),
    ]
    for by, payer, where in cases:
        with writes_nothing(), pytest.raises(NotAllowed):
            task_create(
                by=by, kind="verify_claim", title="t", reward_cents=1, payer=payer, city=where
            )


@pytest.mark.parametrize(
    "change",
    [{"kind": "mine_bitcoin"}, {"reward_cents": -5}, {"reward_cents": 2.5}, {"title": ""}],
)
def test_a_bounty_is_well_formed(operator, change):
    fields = {"kind": "verify_claim", "title": "t", "reward_cents": 100, "payer": "operator"}
    with writes_nothing(), pytest.raises(InvalidInput):
        task_create(by=operator, **{**fields, **change})
