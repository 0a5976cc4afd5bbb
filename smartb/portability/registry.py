"""The registry of export sections and the contexts they work in.

Importing this module loads no model: an app registers its section from `AppConfig.ready`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from .errors import ExportRefused, ImportRefused

Tables = dict[str, list[dict]]

# The sections this project ships; each module calls `register_section` when imported.
_BUILTIN_MODULES = (
    "smartb.portability.ledger_section",
    "smartb.portability.identity_section",
    "smartb.portability.governance_section",
    "impact.simulation.portability",  # impact scenarios and their attachments to proposals
)


@dataclass(frozen=True)
class Section:
    """One app's share of a city export.

    `exporter(ctx) -> {table: [row, ...]}`: JSON-safe dicts in a stable order (the origin's
    creation order), with public ids, slugs, DIDs and ledger indexes, never database keys.
    `checker(ctx, tables)`: runs before anything is written; raises `ImportRefused`.
    `importer(ctx, tables)`: writes the rows, inside the import's one database transaction.
    `after`: the sections whose rows this one refers to (imported before it).
    """

    name: str
    exporter: Callable[[ExportContext], Tables]
    importer: Callable[[ImportContext, Tables], None]
    checker: Callable[[ImportContext, Tables], None] | None = None
    after: tuple[str, ...] = ()
    version: int = 1

    @property
    def filename(self) -> str:
        return f"{self.name}.json"


_SECTIONS: dict[str, Section] = {}
_builtin_loaded = False


def register_section(
    name: str,
    *,
    exporter: Callable[[ExportContext], Tables],
    importer: Callable[[ImportContext, Tables], None],
    checker: Callable[[ImportContext, Tables], None] | None = None,
    after: Iterable[str] = (),
    version: int = 1,
) -> Section:
    """Add (or replace) the section `name`. See the package docstring for an example."""
    if not name.isidentifier() or name.lower() != name:
        raise ValueError(f"a section name is a lowercase identifier, not {name!r}")
    section = Section(
        name=name,
        exporter=exporter,
        importer=importer,
        checker=checker,
        after=tuple(after),
        version=version,
    )
    _SECTIONS[name] = section
    return section


def _load_builtin() -> None:
    global _builtin_loaded
    if not _builtin_loaded:
        _builtin_loaded = True
        for module in _BUILTIN_MODULES:
            importlib.import_module(module)


def sections_in_order() -> list[Section]:
    """Every registered section, each after the ones it names in `after` (import order)."""
    _load_builtin()
    ordered: list[Section] = []
    placed: set[str] = set()
    pending = sorted(_SECTIONS.values(), key=lambda s: s.name)
    while pending:
        ready = [s for s in pending if all(a in placed or a not in _SECTIONS for a in s.after)]
        if not ready:
            names = ", ".join(s.name for s in pending)
            raise RuntimeError(f"export sections depend on each other in a cycle: {names}")
        # The ledger first, then the others by name among those whose dependencies are placed.
        ready.sort(key=lambda s: (s.name != "ledger", s.name))
        chosen = ready[0]
        ordered.append(chosen)
        placed.add(chosen.name)
        pending.remove(chosen)
    return ordered


def section_get(name: str) -> Section | None:
    _load_builtin()
    return _SECTIONS.get(name)


@dataclass
class ExportContext:
    """What the exporters share. They run in reverse import order, so a section can ask the
    sections it depends on to carry more rows (`include_account`, `include_credential`,
    `include_network_entry`) before those export."""

    city: Any  # governance.models.City
    chain: Any  # ledger.models.Chain
    accounts: set[int] = field(default_factory=set)  # user pks the identity section exports
    credentials: set[int] = field(default_factory=set)  # credential pks, likewise
    network_entries: set[int] = field(default_factory=set)  # network-chain transaction pks
    dids: set[str] = field(default_factory=set)  # DIDs the identity section exported

    def include_account(self, user_id: int | None) -> None:
        if user_id is not None:
            self.accounts.add(user_id)

    def include_credential(self, credential_id: int | None) -> None:
        if credential_id is not None:
            self.credentials.add(credential_id)

    def include_network_entry(self, transaction_id: int) -> None:
        """A network-chain transaction a row refers to: it leaves as verifiable evidence (see
        the package docstring); the row should keep its `tx_hash`."""
        self.network_entries.add(transaction_id)

    def entry_index(self, *, chain_id: int | None, index: int | None) -> int | None:
        """The ledger index a row keeps for its transaction on the city's chain."""
        if index is None:
            return None
        if chain_id != self.chain.pk:
            raise ExportRefused(
                _("A row refers to a transaction of another chain than the city's.")
            )
        return index


@dataclass
class ImportContext:
    """What the checkers and importers share. `bundle` is the ledger bundle, already verified;
    importers `remember` the rows they create under a kind and a key, and later sections
    find them with `ref`."""

    directory: Path
    manifest: dict
    bundle: dict
    validators: dict[str, str]  # validator DID -> hex public key trusted for this import
    tables: dict[str, Tables] = field(default_factory=dict)
    city: Any = None
    chain: Any = None
    entry_pks: dict[int, int] = field(default_factory=dict)  # ledger index -> Transaction pk
    _refs: dict[tuple[str, Any], Any] = field(default_factory=dict)
    _tx_by_index: dict[int, dict] | None = None

    def remember(self, kind: str, key: Any, value: Any) -> None:
        self._refs[(kind, key)] = value

    def ref(self, kind: str, key: Any, *, optional: bool = False) -> Any:
        """The row (or pk) remembered as `kind`/`key`; a missing one refuses the import."""
        if key is None:
            return None
        value = self._refs.get((kind, key))
        if value is None and not optional:
            raise ImportRefused(
                _("The export refers to %(kind)s %(key)s but does not contain it.")
                % {"kind": kind, "key": key}
            )
        return value

    def transaction(self, index: int) -> dict:
        """The bundle's transaction at `index` (a dict as in the bundle)."""
        if self._tx_by_index is None:
            self._tx_by_index = {tx["index"]: tx for tx in self.bundle.get("transactions", [])}
        tx = self._tx_by_index.get(index)
        if tx is None:
            raise ImportRefused(
                _("A row refers to ledger transaction %(index)s, which the chain does not hold.")
                % {"index": index}
            )
        return tx

    def entry_pk(self, index: int | None) -> int | None:
        if index is None:
            return None
        self.transaction(index)
        return self.entry_pks[index]
