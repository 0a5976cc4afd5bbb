"""The app store API tests use the world of the app store service tests (an operator, a
city with its staff, a resident, a provider member's organisation and an audited service)."""

from tests.marketplace.conftest import (  # noqa: F401 - fixtures
    auditor,
    city,
    mayor,
    operator,
    other_city,
    provider,
    provider_member,
    resident,
    service,
    staff,
    version,
)
