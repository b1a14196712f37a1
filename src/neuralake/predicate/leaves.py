"""The leaves of the predicate tree: one class per :class:`~neuralake.filters.Filter` operator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeVar

from neuralake.predicate.tree import Comparison, Leaf, SetLeaf

if TYPE_CHECKING:
    from neuralake.predicate.visitor import PredicateVisitor

T = TypeVar("T")


@dataclass(frozen=True)
class EqualTo(Comparison):
    """``column = value``."""

    op: ClassVar[str] = "="

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_equal_to(self)


@dataclass(frozen=True)
class NotEqualTo(Comparison):
    """``column != value`` (a null cell is neither equal nor unequal)."""

    op: ClassVar[str] = "!="

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_not_equal_to(self)


@dataclass(frozen=True)
class LessThan(Comparison):
    """``column < value``."""

    op: ClassVar[str] = "<"

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_less_than(self)


@dataclass(frozen=True)
class LessThanOrEqual(Comparison):
    """``column <= value``."""

    op: ClassVar[str] = "<="

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_less_than_or_equal(self)


@dataclass(frozen=True)
class GreaterThan(Comparison):
    """``column > value``."""

    op: ClassVar[str] = ">"

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_greater_than(self)


@dataclass(frozen=True)
class GreaterThanOrEqual(Comparison):
    """``column >= value``."""

    op: ClassVar[str] = ">="

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_greater_than_or_equal(self)


@dataclass(frozen=True)
class In(SetLeaf):
    """``column in values``; ``in []`` matches nothing."""

    op: ClassVar[str] = "in"

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_in(self)


@dataclass(frozen=True)
class NotIn(SetLeaf):
    """``column not in values``: a null cell never matches, except ``not in []`` (every row)."""

    op: ClassVar[str] = "not in"

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_not_in(self)


@dataclass(frozen=True)
class Contains(Comparison):
    """The string column contains ``value`` as a literal substring (never a regex)."""

    op: ClassVar[str] = "contains"

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_contains(self)


@dataclass(frozen=True)
class Includes(Comparison):
    """The list column has ``value`` as an element."""

    op: ClassVar[str] = "includes"

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_includes(self)


@dataclass(frozen=True)
class IncludesAny(SetLeaf):
    """The list column has one of ``values``; ``includes any []`` matches nothing."""

    op: ClassVar[str] = "includes any"

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_includes_any(self)


@dataclass(frozen=True)
class IncludesAll(SetLeaf):
    """The list column has all of ``values``; ``includes all []`` matches every non-null list."""

    op: ClassVar[str] = "includes all"

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_includes_all(self)


@dataclass(frozen=True)
class IsNull(Leaf):
    """The cell is null."""

    op: ClassVar[str] = "is null"

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_is_null(self)


@dataclass(frozen=True)
class IsNotNull(Leaf):
    """The cell is not null."""

    op: ClassVar[str] = "is not null"

    def accept(self, visitor: PredicateVisitor[T]) -> T:
        return visitor.visit_is_not_null(self)


#: The leaf class of each :class:`~neuralake.filters.Filter` operator.
LEAVES: dict[str, type[Leaf]] = {
    cls.op: cls
    for cls in (
        EqualTo, NotEqualTo, LessThan, LessThanOrEqual, GreaterThan, GreaterThanOrEqual,
        In, NotIn, Contains, Includes, IncludesAny, IncludesAll, IsNull, IsNotNull,
    )
}  # fmt: skip
