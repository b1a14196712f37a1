"""``PinnedPartitions``: the partition values each OR-branch pins, for listing prefixes.

A Parquet dataset partitioned by folders is listed only below the folders of the values the
filter pins its leading partition columns to with ``=`` / ``in``; everything else is applied
by the scan afterwards, so pruning can only skip, never change, rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralake.filters import Filter
from neuralake.predicate.bind import bind
from neuralake.predicate.leaves import EqualTo, In
from neuralake.predicate.tree import Predicate, dnf
from neuralake.predicate.visitor import PredicateVisitor

#: Per OR-branch, ``(partition column, pinned values)`` for the leading pinned columns.
Pins = tuple[tuple[tuple[str, tuple[Any, ...]], ...], ...]


def _pinned(atom: Predicate) -> tuple[str, tuple[Any, ...]] | None:
    if isinstance(atom, EqualTo):
        values: tuple[Any, ...] = (atom.value,)
        if atom.dtype.is_integer() and isinstance(atom.value, float):
            values = () if atom.value % 1 else (int(atom.value),)  # 1.5 is no integer
        return atom.column, values
    if isinstance(atom, In):
        return atom.column, atom.matchable
    return None


def _branch(atoms: Sequence[Predicate]) -> dict[str, tuple[Any, ...]]:
    """What an AND-branch pins: per column, the values every ``=``/``in`` on it allows."""
    allowed: dict[str, set[Any]] = {}
    order: dict[str, list[Any]] = {}
    for atom in atoms:
        pin = _pinned(atom)
        if pin is None:
            continue
        column, values = pin
        seen = order.setdefault(column, [])
        seen.extend(v for v in values if v not in seen)
        allowed[column] = set(values) if column not in allowed else allowed[column] & set(values)
    return {c: tuple(v for v in order[c] if v in allowed[c]) for c in allowed}


class PinnedPartitions(PredicateVisitor[Pins | None]):
    """For each OR-branch, the values it pins each leading partition column to.

    Args:
        partition_names: Partition columns in folder-nesting order.

    Returns (from ``accept``):
        One entry per OR-branch (``()`` when nothing can match), or ``None`` when some branch
        pins nothing, so the whole table must be listed.

    Example:
        >>> import polars as pl
        >>> from neuralake.filters import Filter
        >>> pred = bind([[Filter("p", "in", ["a", "b"]), Filter("q", "=", 1)],
        ...              [Filter("p", "=", "c")]], pl.Schema({"p": pl.String, "q": pl.Int64}))
        >>> pred.accept(PinnedPartitions(["p", "q"]))
        ((('p', ('a', 'b')), ('q', (1,))), (('p', ('c',)),))
    """

    def __init__(self, partition_names: Sequence[str]) -> None:
        self.partition_names = tuple(partition_names)

    def _pins(self, node: Predicate) -> Pins | None:
        branches = dnf(node)
        if branches is None:
            return None
        result = []
        for atoms in branches:
            pinned = _branch(atoms)
            lead = []
            for name in self.partition_names:
                if name not in pinned:
                    break
                lead.append((name, pinned[name]))
            if not lead:
                return None
            result.append(tuple(lead))
        return tuple(result)

    # Every node reduces to its OR-branches of atoms, so one method serves all of them.
    visit_always_true = visit_always_false = visit_and = visit_or = visit_polars_expr = _pins
    visit_equal_to = visit_not_equal_to = visit_less_than = visit_less_than_or_equal = _pins
    visit_greater_than = visit_greater_than_or_equal = visit_in = visit_not_in = _pins
    visit_contains = visit_includes = visit_includes_any = visit_includes_all = _pins
    visit_is_null = visit_is_not_null = _pins


def pinned_values(branch: Sequence[Filter], column: str) -> tuple[Any, ...] | None:
    """Values an AND-branch of filters pins ``column`` to with ``=``/``in`` (``None`` if
    unpinned).

    Example:
        >>> pinned_values([Filter("p", "in", ["a", "b"]), Filter("p", "!=", "b")], "p")
        ('a', 'b')
    """
    pins = bind(list(branch), None).accept(PinnedPartitions((column,)))
    return None if not pins else pins[0][0][1]
