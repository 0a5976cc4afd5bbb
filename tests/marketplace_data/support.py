"""What the data marketplace API tests share: the token JSON client of the governance API
tests aimed at /api/v1/marketplace/data, with raw PUT and DELETE, and the error-body check."""

from __future__ import annotations

from tests.governance_api.support import Api as GovernanceApi
from tests.governance_api.support import assert_error

__all__ = ["API", "Api", "assert_error"]

API = "/api/v1/marketplace/data"


class Api(GovernanceApi):
    def url(self, path: str) -> str:
        return path if path.startswith("/api/") else f"{API}/{path}"

    def put_bytes(self, path: str, body: bytes):
        return self.client.put(
            self.url(path), data=body, content_type="application/octet-stream", **self.headers
        )

    def delete(self, path: str):
        return self.client.delete(self.url(path), **self.headers)

    def post_multipart(self, path: str, data: dict):
        return self.client.post(self.url(path), data=data, **self.headers)
