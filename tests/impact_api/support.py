"""A token-authenticated JSON client of /api/v1/impact and the check on the error body."""

from __future__ import annotations

import json

from django.test import Client
from rest_framework.authtoken.models import Token

from identity.models import User

API = "/api/v1/impact"


class Api:
    def __init__(self, user: User | None = None) -> None:
        self.user = user
        self.client = Client(HTTP_ACCEPT_LANGUAGE="en")
        self.headers = {}
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            self.headers["HTTP_AUTHORIZATION"] = f"Token {token.key}"

    def url(self, path: str) -> str:
        return path if path.startswith("/api/") else f"{API}/{path}"

    def get(self, path: str, params: dict | None = None):
        return self.client.get(self.url(path), params or {}, **self.headers)

    def post(self, path: str, data=None, *, raw: str | None = None):
        body = raw if raw is not None else json.dumps({} if data is None else data)
        return self.client.post(
            self.url(path), data=body, content_type="application/json", **self.headers
        )

    def upload(self, path: str, data: dict):
        return self.client.post(self.url(path), data=data, **self.headers)


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]
