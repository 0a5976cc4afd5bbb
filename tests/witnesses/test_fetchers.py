"""Witnessing a log of another deployment over HTTP: the real ledger API answered by the
Django test client through the fetcher's transport, and the failures that are errors only."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from ledger.signing import checkpoint_origin
from witnesses.errors import FetchFailed
from witnesses.fetchers import HttpFetcher, urllib_transport
from witnesses.models import Inconsistency
from witnesses.services import local_log_set, witness_add, witness_observe

from .conftest import grow


def client_transport(client):
    """The fetcher's transport, answered by this deployment's own API (the test client)."""

    def transport(url: str, timeout: float) -> tuple[int, bytes]:
        parts = urlsplit(url)
        response = client.get(parts.path + ("?" + parts.query if parts.query else ""))
        return response.status_code, response.content

    return transport


@pytest.fixture
def remote(city, staff, watched):
    keys, quorum = local_log_set(watched.chain)
    return witness_add(
        city=city,
        by=staff,
        base_url="http://testserver",
        log_slug=watched.chain.slug,
        origin=checkpoint_origin(watched.chain.slug),
        log_keys=keys,
        quorum=quorum,
    )


def test_a_remote_log_is_witnessed_through_its_public_api(client, watched, remote):
    fetcher = HttpFetcher(remote.base_url, remote.log_slug, transport=client_transport(client))
    assert witness_observe(relation=remote, fetcher=fetcher).outcome == "cosigned"
    grow(watched, 2)
    result = witness_observe(relation=remote, fetcher=fetcher)
    assert result.outcome == "cosigned"
    remote.refresh_from_db()
    assert remote.last_size == watched.chain.sealed_size
    assert remote.cosignatures.count() == 2


def test_http_failures_are_errors_not_evidence(client, remote):
    def failing(status: int, body: bytes):
        return lambda url, timeout: (status, body)

    def unreachable(url, timeout):
        raise FetchFailed("timed out")

    for transport in (failing(500, b"oops"), failing(200, b"x" * 70_000), unreachable):
        fetcher = HttpFetcher(remote.base_url, remote.log_slug, transport=transport)
        assert witness_observe(relation=remote, fetcher=fetcher).outcome == "error"
    remote.refresh_from_db()
    assert remote.last_error and remote.last_size is None
    assert not Inconsistency.objects.exists()


def test_a_proof_for_other_sizes_is_refused_as_malformed():
    answers = {
        "/checkpoint": (200, b""),
        "/consistency": (200, b'{"first": 1, "second": 9, "proof": []}'),
    }

    def transport(url, timeout):
        return answers["/consistency"]

    with pytest.raises(FetchFailed):
        HttpFetcher("http://x", "a", transport=transport).consistency(2, 9)


def test_the_standard_transport_fetches_only_http_and_reports_unreachable_hosts():
    with pytest.raises(FetchFailed):
        urllib_transport("file:///etc/passwd", 1.0)
    with pytest.raises(FetchFailed):
        urllib_transport("http://127.0.0.1:9/api/v1/ledger/chains/a/checkpoint", 1.0)
