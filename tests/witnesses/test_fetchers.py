"""Witnessing a log of another deployment over HTTP: the real ledger API answered by the
Django test client through the fetcher's transport, and the failures that are errors only."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from ledger.signing import checkpoint_origin
from witnesses import fetchers
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


class PagedLog:
    """A fake transport serving `validator-changes` from a list of change indices, `per_page`
    at a time (the others answer 404), recording each range asked."""

    def __init__(self, indices: list[int], *, per_page: int) -> None:
        self.indices, self.per_page = indices, per_page
        self.asked: list[dict[str, int]] = []

    def __call__(self, url: str, timeout: float) -> tuple[int, bytes]:
        parts = urlsplit(url)
        if not parts.path.endswith("/validator-changes"):
            return 404, b"{}"
        params = {k: int(v[0]) for k, v in parse_qs(parts.query).items()}
        self.asked.append(params)
        chosen = [i for i in self.indices if params["start"] <= i < params["stop"]]
        rows, rest = chosen[: self.per_page], chosen[self.per_page :]
        body = {
            "changes": [{"index": i, "kind": "ledger.validators.set"} for i in rows],
            "next": rows[-1] + 1 if rest else None,
        }
        return 200, json.dumps(body).encode()


def test_the_changes_of_any_range_come_in_bounded_pages():
    # 100,000 entries, changes deep in the range: one request per page of changes.
    log = PagedLog([5, 300, 301, 70_000, 99_998], per_page=2)
    fetcher = HttpFetcher("http://x", "a", transport=log)

    changes = fetcher.validator_changes(3, 100_000)

    assert [c["index"] for c in changes] == [5, 300, 301, 70_000, 99_998]
    assert [(a["start"], a["stop"]) for a in log.asked] == [
        (3, 100_000),
        (301, 100_000),
        (70_001, 100_000),
    ]
    assert {a["limit"] for a in log.asked} == {fetchers.CHANGES_PAGE}
    assert fetcher.validator_changes(6, 300) == []


def scripted(*pages: dict):
    answers = iter(pages)
    return lambda url, timeout: (200, json.dumps(next(answers)).encode())


@pytest.mark.parametrize(
    "pages",
    [
        [{"changes": [{"index": 2}], "next": None}],  # before the range
        [{"changes": [{"index": 50}], "next": None}],  # after it
        [{"changes": [{"index": 12}, {"index": 11}], "next": None}],  # out of order
        [{"changes": [{"index": "12"}], "next": None}],
        [{"changes": "none", "next": None}],
        [{"changes": [{"index": 12}], "next": 12}],  # a page that does not move on
        [{"changes": [], "next": 20}],  # an empty page that says there is more
        [{"changes": [{"index": 12}], "next": 41}],  # beyond the range
        [{"changes": [{"index": i} for i in range(10, 10 + fetchers.CHANGES_PAGE + 1)]}],
    ],
)
def test_a_malformed_page_of_changes_is_an_error(pages):
    fetcher = HttpFetcher("http://x", "a", transport=scripted(*pages))
    with pytest.raises(FetchFailed):
        fetcher.validator_changes(10, 40)


def test_a_log_that_pages_without_end_is_stopped(monkeypatch):
    monkeypatch.setattr(fetchers, "MAX_CHANGE_PAGES", 3)
    pages = [{"changes": [{"index": i}], "next": i + 1} for i in range(10, 20)]
    fetcher = HttpFetcher("http://x", "a", transport=scripted(*pages))
    with pytest.raises(FetchFailed, match="more than 36 validator changes"):
        fetcher.validator_changes(10, 1_000)
