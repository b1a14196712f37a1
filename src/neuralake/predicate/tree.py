"""The bound predicate tree: immutable nodes (leaf bases, AND, OR, constants, opaque Polars).

A tree is built by :func:`neuralake.predicate.bind` (filters validated against a schema) and
read by renderers, each a :class:`~neuralake.predicate.visitor.PredicateVisitor` with one
method per node class, so a renderer that lacks an operator cannot be instantiated. The leaf
classes, one per :class:`~neuralake.filters.Filter` operator, are in
:mod:`neuralake.predicate.leaves`; they carry the column name, the column's Polars dtype and
the validated value(s).

:class:`PolarsExpr` holds a ``pl.Expr`` given directly (or a SQL predicate only Polars can
evaluate, such as ``year(d) = 2024``). Only the Polars renderer can render it: renderers that
produce text (SQL, DataFusion) raise :class:`NotRenderableError` (the Python renderer writes a
SQL-born one back as its SQL string); those that answer "can this be pushed down?" (REST,
delta-rs partition filters, partition pins) return ``None``.
"""

from __future__ import annotations

import decimal
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from neuralake.errors import InvalidFilterError

if TYPE_CHECKING:
    import polars as pl

    from neuralake.predicate.visitor import PredicateVisitor

T = TypeVar("T")
#: DNF expansion larger than this is not attempted (renderers then say they cannot help).
MAX_BRANCHES = 256


class NotRenderableError(InvalidFilterError):
    """A renderer cannot express this predicate (e.g. a ``pl.Expr`` outside Polars)."""


class Predicate(ABC):
    """A node of the bound predicate tree."""

    @abstractmethod
    def accept(self, visitor: PredicateVisitor[T]) -> T:
        """Dispatch to the visitor's method for this node class."""

    @property
    @abstractmethod
    def columns(self) -> frozenset[str]:
        """The column names the predicate reads."""


@dataclass(frozen=True)
class AlwaysTrue(Predicate):
    """Keeps every row (no filter)."""

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_always_true(self)

    @property
    def columns(self) -> frozenset[str]:
        return frozenset()

    def __str__(self) -> str:
        return "TRUE"


@dataclass(frozen=True)
class AlwaysFalse(Predicate):
    """Keeps no row."""

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_always_false(self)

    @property
    def columns(self) -> frozenset[str]:
        return frozenset()

    def __str__(self) -> str:
        return "FALSE"


@dataclass(frozen=True)
class _Junction(Predicate):
    children: tuple[Predicate, ...]
    word: ClassVar[str]

    @property
    def columns(self) -> frozenset[str]:
        return frozenset().union(*(c.columns for c in self.children))

    def __str__(self) -> str:
        return f" {self.word} ".join(
            f"({c})" if isinstance(c, _Junction) else str(c) for c in self.children
        )


@dataclass(frozen=True)
class And(_Junction):
    """All children hold. Build with :func:`and_`, which flattens and simplifies."""

    word: ClassVar[str] = "AND"

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_and(self)


@dataclass(frozen=True)
class Or(_Junction):
    """Some child holds. Build with :func:`or_`, which flattens and simplifies."""

    word: ClassVar[str] = "OR"

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_or(self)


@dataclass(frozen=True, eq=False)  # pl.Expr overloads ==, so nodes compare by identity
class PolarsExpr(Predicate):
    """A Polars expression only the Polars renderer can render.

    Attributes:
        expr: The expression.
        roots: Columns it reads.
        text: The SQL predicate it was parsed from, if any.
    """

    expr: pl.Expr
    roots: frozenset[str]
    text: str | None = None

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_polars_expr(self)

    @property
    def columns(self) -> frozenset[str]:
        return self.roots

    def __str__(self) -> str:
        return self.text if self.text is not None else str(self.expr)


@dataclass(frozen=True)
class Leaf(Predicate):
    """A test on one column; ``op`` is the :class:`~neuralake.filters.Filter` operator."""

    column: str
    dtype: pl.DataType
    op: ClassVar[str]

    @property
    def columns(self) -> frozenset[str]:
        return frozenset((self.column,))

    def __str__(self) -> str:
        return f"{self.column} {self.op}"


@dataclass(frozen=True)
class Comparison(Leaf):
    """``column <op> value``; a null cell never matches."""

    value: Any = field(kw_only=True)

    def __str__(self) -> str:
        return f"{self.column} {self.op} {self.value!r}"


@dataclass(frozen=True)
class SetLeaf(Leaf):
    """A test against a collection of values (``in``, ``not in``, ``includes any/all``)."""

    values: tuple[Any, ...] = field(kw_only=True)

    @property
    def matchable(self) -> tuple[Any, ...]:
        """The values a cell of the column can equal.

        A non-integral number (1.5) can never equal a value of an integer column, so it is
        dropped rather than truncated to 1 by a cast; integral floats (2.0) become ints.
        """
        if not self.dtype.is_integer():
            return self.values
        return tuple(
            int(v) if isinstance(v, float | decimal.Decimal) else v
            for v in self.values
            if not (isinstance(v, float | decimal.Decimal) and v % 1)
        )

    def __str__(self) -> str:
        return f"{self.column} {self.op} {list(self.values)!r}"


def and_(*children: Predicate) -> Predicate:
    """The conjunction of ``children``, flattened, without ``AlwaysTrue``, short-circuited."""
    flat: list[Predicate] = []
    for c in children:
        if isinstance(c, AlwaysFalse):
            return c
        if isinstance(c, And):
            flat.extend(c.children)
        elif not isinstance(c, AlwaysTrue):
            flat.append(c)
    if not flat:
        return AlwaysTrue()
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def or_(*children: Predicate) -> Predicate:
    """The disjunction of ``children``, flattened, without ``AlwaysFalse``, short-circuited."""
    flat: list[Predicate] = []
    for c in children:
        if isinstance(c, AlwaysTrue):
            return c
        if isinstance(c, Or):
            flat.extend(c.children)
        elif not isinstance(c, AlwaysFalse):
            flat.append(c)
    if not flat:
        return AlwaysFalse()
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def dnf(pred: Predicate) -> tuple[tuple[Predicate, ...], ...] | None:
    """``pred`` as OR-branches of AND-ed atoms (leaves or :class:`PolarsExpr`).

    ``()`` is always false, ``((),)`` always true; ``None`` when the expansion would exceed
    :data:`MAX_BRANCHES` branches.
    """
    if isinstance(pred, AlwaysTrue):
        return ((),)
    if isinstance(pred, AlwaysFalse):
        return ()
    if isinstance(pred, Or):
        branches: list[tuple[Predicate, ...]] = []
        for child in pred.children:
            sub = dnf(child)
            if sub is None or len(branches) + len(sub) > MAX_BRANCHES:
                return None
            branches.extend(sub)
        return tuple(branches)
    if isinstance(pred, And):
        product: list[tuple[Predicate, ...]] = [()]
        for child in pred.children:
            sub = dnf(child)
            if sub is None or len(product) * len(sub) > MAX_BRANCHES:
                return None
            product = [left + right for left in product for right in sub]
        return tuple(product)
    return ((pred,),)
