"""The municipality staff open the city's curators college, once."""

from __future__ import annotations

import pytest

from governance.models import College
from marketplace.data.errors import NotAllowed, WrongState
from marketplace.data.services import curators_college_open


def test_the_curators_college_is_opened_once_by_the_staff(city, staff, resident):
    with pytest.raises(NotAllowed):
        curators_college_open(by=resident.user, city=city)
    college = curators_college_open(by=staff, city=city)
    assert (college.slug, college.kind) == ("curators", "other")
    assert city.chain.entries.filter(kind="marketplace.curators.open").count() == 1
    with pytest.raises(WrongState):
        curators_college_open(by=staff, city=city)
    assert College.objects.filter(city=city, slug="curators").count() == 1
