"""Which catalog a command runs on, and loading it.

A catalog is named ``package.module:attribute`` (like uvicorn's ``app:app``) with ``-c``; when
omitted it is read from ``[tool.neuralake] catalog = "..."`` in the nearest ``pyproject.toml``.
The project root (the folder of that ``pyproject.toml``) and the working folder are importable,
so a catalog module in the project needs no install and commands run alike from any subfolder.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from neuralake.cli.errors import UsageError
from neuralake.cli.output import Result, render

if TYPE_CHECKING:
    from neuralake.catalog import Catalog


def configured_reference(start: Path | None = None) -> str:
    """The catalog reference from the nearest ``pyproject.toml`` (``[tool.neuralake] catalog``)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            with pyproject.open("rb") as fh:
                ref = tomllib.load(fh).get("tool", {}).get("neuralake", {}).get("catalog")
            if ref:
                return str(ref)
    raise UsageError(
        "no catalog given: pass one with neuralake -c package.module:attribute, or set "
        '[tool.neuralake] catalog = "package.module:attribute" in pyproject.toml'
    )


def load(reference: str) -> Catalog:
    """Import the catalog ``reference``: the project root (the folder of the ``pyproject.toml``
    naming it, else the nearest one, walking up from the working folder) first on
    ``sys.path``, then the working folder, so commands run alike from any subfolder."""
    from neuralake.catalog import importable, load_catalog

    module, sep, attr = reference.partition(":")
    if not (sep and module and attr):  # a typo on the command line, not a broken catalog
        raise UsageError(f"catalog reference {reference!r} must look like package.module:attribute")
    importable(Path.cwd())
    return load_catalog(reference)  # puts the project root before the working folder


@dataclass(frozen=True)
class Context:
    """What every command gets besides its own arguments.

    Attributes:
        refs: Catalog references given (``-c``, repeatable, or the deprecated positional).
        as_json: Print results as JSON.
        debug: Show tracebacks.
    """

    refs: tuple[str, ...] = ()
    as_json: bool = False
    debug: bool = False

    def references(self) -> list[str]:
        """Every catalog given, or the configured one."""
        return list(self.refs) or [configured_reference()]

    def reference(self) -> str:
        """The one catalog a command runs on."""
        refs = self.references()
        if len(refs) > 1:
            raise UsageError(
                "this command takes one catalog; -c/--catalog was given more than once"
            )
        return refs[0]

    def catalog(self) -> Catalog:
        return load(self.reference())

    def emit(self, result: Result) -> None:
        """Print a result now (for commands that show progress before they finish)."""
        render(result, as_json=self.as_json)
