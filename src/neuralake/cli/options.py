"""Arguments shared by several commands, declared once."""

from __future__ import annotations

import argparse
import functools
import importlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from neuralake.cli.errors import UsageError

if TYPE_CHECKING:
    from neuralake.cli.context import Context
    from neuralake.cli.output import Result

    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]
    Command = Callable[[argparse.Namespace, Context], Result | None]


class Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line and a documented exit code."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def command(
    sub: Subparsers,
    name: str,
    func: Command,
    text: str,
    parents: Sequence[argparse.ArgumentParser] = (),
) -> argparse.ArgumentParser:
    """Add the subcommand ``name`` that runs ``func(ns, ctx)``."""
    p = sub.add_parser(name, help=text, description=text, parents=list(parents))
    p.set_defaults(func=func, prog=p.prog)
    return p


@functools.cache
def json_parent() -> argparse.ArgumentParser:
    """``--json`` (one parser, the parent of every command that has a JSON form)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--json", action="store_true", help="stable JSON output on stdout")
    return p


def operands(p: argparse.ArgumentParser, *names: tuple[str, str, str]) -> None:
    """Declare ``[CATALOG] NAME...`` as ``(dest, metavar, help)`` triples.

    The leading ``CATALOG`` is the deprecated spelling of ``-c/--catalog``: it counts as the
    catalog only when one more positional than the command needs is given.
    """
    p.add_argument(
        "catalog_operand", nargs="?", metavar="CATALOG",
        help="deprecated: the catalog; prefer neuralake -c CATALOG",
    )  # fmt: skip
    for dest, metavar, text in names:
        p.add_argument(dest, nargs="?", metavar=metavar, help=text)
    p.set_defaults(operand_names=tuple((dest, metavar) for dest, metavar, _ in names))


def split_operands(ns: argparse.Namespace) -> str | None:
    """Assign the positionals of :func:`operands` to their names; return a positional catalog."""
    names: tuple[tuple[str, str], ...] = getattr(ns, "operand_names", ())
    slots = [getattr(ns, "catalog_operand", None), *(getattr(ns, d) for d, _ in names)]
    given = [v for v in slots if v is not None]
    ref, rest = (given[0], given[1:]) if len(given) > len(names) else (None, given)
    if len(rest) < len(names):
        missing = " ".join(metavar for _, metavar in names[len(rest) :])
        raise UsageError(f"{ns.prog} needs {missing} (see {ns.prog} --help)")
    for (dest, _), value in zip(names, rest, strict=True):
        setattr(ns, dest, value)
    return ref


class LibraryDefault:
    """An option default owned by a library module that is slow to import (e.g. one that loads
    a YAML library), imported only when help or the command reads it."""

    def __init__(self, module: str, name: str, scale: float = 1.0) -> None:
        self.module, self.name, self.scale = module, name, scale

    def get(self) -> Any:
        value = getattr(importlib.import_module(self.module), self.name)
        return value if self.scale == 1.0 else value * self.scale

    def __str__(self) -> str:
        value = self.get()
        return format(value, "g") if isinstance(value, float) else str(value)


def resolve(value: Any) -> Any:
    """An option's value, with a :class:`LibraryDefault` read from the library."""
    return value.get() if isinstance(value, LibraryDefault) else value
