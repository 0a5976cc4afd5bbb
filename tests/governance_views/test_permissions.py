"""What a page shows to whom, beyond the status codes: the author and the staff see a draft
and the button that opens its vote.

Who gets which status on every page (anonymous, other cities, applicant, resident, provider,
staff, operator) is the authorization matrix: tests/authz/matrix.py.
"""

from __future__ import annotations

import pytest

from .conftest import logged_in, url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["resident", "staff"])
def test_the_author_and_staff_see_a_draft(request, client, who, city, draft):
    logged_in(client, request.getfixturevalue(who).user)
    page = client.get(url("proposal_detail", city, draft.public_id)).content.decode()
    assert draft.title in page
    assert url("proposal_open", city, draft.public_id) in page  # both may open it
    assert draft.title in client.get(url("proposal_list", city)).content.decode()
