"""Where a witness gets a log's checkpoint and consistency proofs.

Two implementations of one small interface:

- `LocalFetcher`: the log is a chain of this database, read through `ledger.selectors`
  (the same functions that serve the ledger API), used by the demo and the tests;
- `HttpFetcher`: another SMART B deployment's public ledger API
  (`GET {base}/api/v1/ledger/chains/<slug>/checkpoint` and `.../consistency?first=&second=`),
  with the standard library, a timeout and a size limit. The transport is injectable so tests
  run it against the Django test client.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Protocol

from django.utils.translation import gettext as _

from .errors import FetchFailed

MAX_BODY = 64 * 1024
DEFAULT_TIMEOUT_S = 5.0

# (url, timeout in seconds) -> (HTTP status, body)
Transport = Callable[[str, float], tuple[int, bytes]]


class Fetcher(Protocol):
    def checkpoint(self) -> str: ...

    def consistency(self, first: int, second: int) -> list[bytes]: ...


class LocalFetcher:
    """A chain of this deployment, through the ledger's selectors."""

    def __init__(self, slug: str) -> None:
        self.slug = slug

    def checkpoint(self) -> str:
        from ledger import selectors
        from ledger.models import Chain

        found = Chain.objects.filter(slug=self.slug).first()
        # What the ledger API publishes: the latest final block when blocks await a quorum.
        latest = getattr(selectors, "block_latest_final", selectors.block_latest)
        block = latest(chain=found) if found else None
        if block is None:
            raise FetchFailed(_("The log has no sealed block yet."))
        return selectors.block_checkpoint(block=block, chain_slug=found.slug)

    def consistency(self, first: int, second: int) -> list[bytes]:
        from ledger import selectors
        from ledger.errors import ProofUnavailable
        from ledger.models import Chain

        chain = Chain.objects.filter(slug=self.slug).first()
        if chain is None:
            raise FetchFailed(_("The log is gone."))
        try:
            proof = selectors.consistency_proof(chain=chain, first=first, second=second)
        except ProofUnavailable as error:
            raise FetchFailed(error.message) from error
        return [bytes.fromhex(h) for h in proof["proof"]]


def urllib_transport(url: str, timeout: float) -> tuple[int, bytes]:
    """GET `url` with the standard library; only http(s), at most MAX_BODY bytes."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise FetchFailed(_("Only http and https addresses are fetched."))
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, headers={"Accept": "text/plain, application/json", "User-Agent": "smartb-witness/1"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read(MAX_BODY + 1)
    except urllib.error.HTTPError as error:
        return error.code, error.read(MAX_BODY + 1)
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        message = _("The deployment could not be reached: %(error)s") % {"error": error}
        raise FetchFailed(message) from error


class HttpFetcher:
    """A chain of another SMART B deployment, through its public ledger API."""

    def __init__(
        self,
        base_url: str,
        slug: str,
        *,
        transport: Transport | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.base = base_url.rstrip("/") + f"/api/v1/ledger/chains/{urllib.parse.quote(slug)}"
        self.transport = transport or urllib_transport
        self.timeout = timeout

    def _get(self, path: str) -> bytes:
        status, body = self.transport(self.base + path, self.timeout)
        if len(body) > MAX_BODY:
            raise FetchFailed(_("The answer is too large."))
        if status != 200:
            raise FetchFailed(_("The deployment answered HTTP %(status)s.") % {"status": status})
        return body

    def checkpoint(self) -> str:
        try:
            return self._get("/checkpoint").decode("utf-8")
        except UnicodeDecodeError as error:
            raise FetchFailed(_("The checkpoint is not UTF-8 text.")) from error

    def consistency(self, first: int, second: int) -> list[bytes]:
        body = self._get(f"/consistency?first={int(first)}&second={int(second)}")
        try:
            data = json.loads(body)
            proof = [bytes.fromhex(h) for h in data["proof"]]
        except (ValueError, KeyError, TypeError) as error:
            raise FetchFailed(_("The consistency proof is not in the expected format.")) from error
        if data.get("first") != first or data.get("second") != second:
            raise FetchFailed(_("The consistency proof is for other sizes."))
        if any(len(h) != 32 for h in proof):
            raise FetchFailed(_("The consistency proof is not in the expected format."))
        return proof
