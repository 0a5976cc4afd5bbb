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
block of a tree size, and inclusion proofs. Over HTTP these are `validator-changes` (paged,
so a request costs the same whatever the number of entries between two checkpoints; see
`HttpFetcher.validator_changes` for why the log's own filter is safe), `entries/<i>`,
`blocks/<h>` and `entries/<i>/proof`.
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

from .errors import FetchFailed

MAX_BODY = 64 * 1024
DEFAULT_TIMEOUT_S = 5.0
# Changes asked per request: a set change names at most 64 validators (`ledger.quorum`),
# about 4.3 KB as JSON, so a full page stays under MAX_BODY.
CHANGES_PAGE = 12
MAX_CHANGE_PAGES = 100

# (url, timeout in seconds) -> (HTTP status, body)
Transport = Callable[[str, float], tuple[int, bytes]]


class Fetcher(Protocol):
    def checkpoint(self) -> str: ...

    def consistency(self, first: int, second: int) -> list[bytes]: ...

    def validator_changes(self, start: int, stop: int) -> list[dict]:
        """The log's `ledger.validators.*` transactions with an index in [start, stop), in
        index order (`ledger.export.transaction_dict`), whatever the size of the range."""
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

    def validator_changes(self, start: int, stop: int) -> list[dict]:
        from ledger import selectors
        from ledger.export import transaction_dict

        chain, changes, cursor = self._chain(), [], start
        while cursor is not None:
            entries, cursor = selectors.validator_change_entries(
                chain=chain, start=cursor, stop=stop
            )
            changes += [transaction_dict(entry) for entry in entries]
        return changes

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

    def validator_changes(self, start: int, stop: int) -> list[dict]:
        """Pages through the log's `validator-changes` endpoint: a request per
        `CHANGES_PAGE` changes, whatever the number of entries in [start, stop).

        The log filters its own entries here, and the witness cannot check that the list is
        complete. It does not need to: leaving a change out can only keep the witness on the
        set it already trusts, never make it take a set it has not proved, so it still
        accepts only what a quorum of that set signed. Once the hidden change is in force,
        the log's blocks and checkpoints are signed by a set the witness does not know: they
        fail the quorum check of the known set and the round is refused (an error: nothing
        cosigned, no set followed) until the log shows the change. Each change listed is
        proved by the witness itself (`witnesses.light_client.prove_change`). Reading
        `entries/<i>` one by one gives no more: an entry shown as not a change has no proof
        checked either.

        The pages must move forward through the range, and a round reads at most
        `MAX_CHANGE_PAGES` of them (a log with more changes than that between two rounds is an
        error, not a loop the log can make the witness run).
        """
        changes: list[dict] = []
        cursor = start
        for _page in range(MAX_CHANGE_PAGES):
            query = f"start={int(cursor)}&stop={int(stop)}&limit={CHANGES_PAGE}"
            data = self._json(f"/validator-changes?{query}")
            rows, following = data.get("changes"), data.get("next")
            if not isinstance(rows, list) or len(rows) > CHANGES_PAGE:
                raise FetchFailed(_("The answer is not in the expected format."))
            for row in rows:
                index = row.get("index") if isinstance(row, dict) else None
                if type(index) is not int or not cursor <= index < stop:
                    raise FetchFailed(_("The answer is not in the expected format."))
                cursor = index + 1
                changes.append(row)
            if following is None:
                return changes
            if type(following) is not int or not rows or not cursor <= following <= stop:
                raise FetchFailed(_("The answer is not in the expected format."))
            cursor = following
        message = _(
            "The log shows more than %(count)s validator changes since the last checkpoint."
        ) % {"count": MAX_CHANGE_PAGES * CHANGES_PAGE}
        raise FetchFailed(message)

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
