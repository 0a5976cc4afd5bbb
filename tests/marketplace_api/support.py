"""What the app store API tests share: the token JSON client of the governance API tests,
aimed at /api/v1/marketplace, and the error-body check."""

from __future__ import annotations

from tests.governance_api.support import Api as GovernanceApi
from tests.governance_api.support import assert_error

__all__ = ["API", "Api", "assert_error"]

API = "/api/v1/marketplace"


class Api(GovernanceApi):
    def url(self, path: str) -> str:
        return path if path.startswith("/api/") else f"{API}/{path}"
