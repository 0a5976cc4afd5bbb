"""Where a witness gets a log's checkpoint and consistency proofs.

Two implementations of one small interface:

- `LocalFetcher`: the log is a chain of this database, read through `ledger.selectors`
  (the same functions that serve the ledger API), used by the demo and the tests;
- `HttpFetcher`: another SMART B deployment's public ledger API
  (`GET {base}/api/v1/ledger/chains/<slug>/checkpoint` and `.../consistency?first=&second=`),
  with the standard library, a timeout and a size limit. The transport is injectable so tests
  run it against the Django test client.

To follow the log's validator set (`witnesses.light_client`) a fetcher also gives the log's
validator-change transactions in a range of indices, the block sealing a transaction, the
block of a tree size, and inclusion proofs. Over HTTP these are `entries/<i>` (scanned one by
one, at most `MAX_SCAN` per round; beyond that the `validators` endpoint must show no change
the witness does not know, or the round is an error), `blocks/<h>` and `entries/<i>/proof`.
Nothing a fetcher returns is trusted: the witness checks every signature and proof.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Protocol

from django.utils.translation import gettext as _

from ledger.quorum import CHANGE_KINDS, ValidatorSet

from .errors import FetchFailed

MAX_BODY = 64 * 1024
DEFAULT_TIMEOUT_S = 5.0
MAX_SCAN = 256

# (url, timeout in seconds) -> (HTTP status, body)
Transport = Callable[[str, float], tuple[int, bytes]]


class Fetcher(Protocol):
    def checkpoint(self) -> str: ...

    def consistency(self, first: int, second: int) -> list[bytes]: ...

    def validator_changes(
        self, start: int, stop: int, *, known: ValidatorSet | None = None
    ) -> list[dict]:
        """The log's `ledger.validators.*` transactions with an index in [start, stop), in
        index order (`ledger.export.transaction_dict` plus "index"). `known`: the set the
        witness expects in force after them (lets a remote fetcher skip a long scan)."""
        ...

    def block_sealing(self, index: int) -> dict:
        """The first block whose tree holds transaction `index` (`ledger.export.block_dict`)."""
        ...

    def block_of_size(self, tree_size: int) -> dict:
        """The block whose tree has `tree_size` leaves."""
        ...

    def inclusion(self, index: int, tree_size: int) -> list[bytes]:
        """The RFC 9162 audit path of transaction `index` in the tree of `tree_size`."""
        ...


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

    def _chain(self):
        from ledger.models import Chain

        chain = Chain.objects.filter(slug=self.slug).first()
        if chain is None:
            raise FetchFailed(_("The log is gone."))
        return chain

    def validator_changes(
        self, start: int, stop: int, *, known: ValidatorSet | None = None
    ) -> list[dict]:
        from ledger.export import transaction_dict

        entries = self._chain().entries.filter(
            kind__in=CHANGE_KINDS, index__gte=start, index__lt=stop
        )
        return [transaction_dict(entry) for entry in entries.order_by("index")]

    def _block(self, block) -> dict:
        from ledger.export import block_dict

        if block is None:
            raise FetchFailed(_("The log has no such block."))
        return block_dict(block)

    def block_sealing(self, index: int) -> dict:
        from ledger import selectors

        chain = self._chain()
        block = selectors.block_containing(chain=chain, index=index)
        return self._block(block and selectors.block_get(chain=chain, height=block.height))

    def block_of_size(self, tree_size: int) -> dict:
        chain = self._chain()
        block = chain.blocks.prefetch_related("signatures").filter(tree_size=tree_size).first()
        return self._block(block)

    def inclusion(self, index: int, tree_size: int) -> list[bytes]:
        from ledger import selectors
        from ledger.errors import ProofUnavailable

        try:
            proof = selectors.inclusion_proof(chain=self._chain(), index=index, tree_size=tree_size)
        except ProofUnavailable as error:
            raise FetchFailed(error.message) from error
        return [bytes.fromhex(h) for h in proof.audit_path]


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

    def _json(self, path: str) -> dict:
        try:
            data = json.loads(self._get(path))
        except ValueError as error:
            raise FetchFailed(_("The answer is not in the expected format.")) from error
        if not isinstance(data, dict):
            raise FetchFailed(_("The answer is not in the expected format."))
        return data

    def _entry(self, index: int) -> dict:
        data = self._json(f"/entries/{int(index)}")
        if data.get("index") != index:
            raise FetchFailed(_("The answer is not in the expected format."))
        return data

    def validator_changes(
        self, start: int, stop: int, *, known: ValidatorSet | None = None
    ) -> list[dict]:
        if stop - start > MAX_SCAN:
            # Too long a range to read entry by entry: go on only if the log says its set
            # is the one the witness knows, with nothing scheduled (a log that hides a
            # change still needs a quorum of the known keys on every checkpoint).
            data = self._json("/validators")
            in_force = data.get("in_force") or {}
            if (
                known is None
                or data.get("scheduled")
                or in_force.get("members") != list(known.members)
                or in_force.get("quorum") != known.quorum
            ):
                message = _(
                    "The log grew by more than %(count)s entries and changed its validators: "
                    "a remote witness follows at most %(count)s entries per round."
                ) % {"count": MAX_SCAN}
                raise FetchFailed(message)
            return []
        changes = []
        for index in range(start, stop):
            entry = self._entry(index)
            if entry.get("kind") in CHANGE_KINDS:
                changes.append(entry)
        return changes

    def _block_at(self, height) -> dict:
        if type(height) is not int or height < 0:
            raise FetchFailed(_("The log has no such block."))
        return self._json(f"/blocks/{height}")

    def block_sealing(self, index: int) -> dict:
        return self._block_at(self._entry(index).get("block_height"))

    def block_of_size(self, tree_size: int) -> dict:
        block = self._block_at(self._entry(tree_size - 1).get("block_height"))
        if block.get("tree_size") != tree_size:
            raise FetchFailed(_("The log has no block of that size."))
        return block

    def inclusion(self, index: int, tree_size: int) -> list[bytes]:
        data = self._json(f"/entries/{int(index)}/proof?tree_size={int(tree_size)}")
        try:
            path = [bytes.fromhex(h) for h in data["audit_path"]]
        except (ValueError, KeyError, TypeError) as error:
            raise FetchFailed(_("The inclusion proof is not in the expected format.")) from error
        if data.get("leaf_index") != index or data.get("tree_size") != tree_size:
            raise FetchFailed(_("The inclusion proof is for another entry or size."))
        if any(len(h) != 32 for h in path):
            raise FetchFailed(_("The inclusion proof is not in the expected format."))
        return path
