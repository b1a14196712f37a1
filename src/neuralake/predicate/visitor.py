"""The renderer interface: one abstract method per node class of the predicate tree."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from neuralake.predicate.leaves import (
        Contains,
        EqualTo,
        GreaterThan,
        GreaterThanOrEqual,
        In,
        Includes,
        IncludesAll,
        IncludesAny,
        IsNotNull,
        IsNull,
        LessThan,
        LessThanOrEqual,
        NotEqualTo,
        NotIn,
    )
    from neuralake.predicate.tree import AlwaysFalse, AlwaysTrue, And, Or, PolarsExpr

T = TypeVar("T")


class PredicateVisitor(ABC, Generic[T]):
    """A renderer: one method per node class (adding a node adds an abstract method here)."""

    @abstractmethod
    def visit_always_true(self, node: AlwaysTrue) -> T: ...
    @abstractmethod
    def visit_always_false(self, node: AlwaysFalse) -> T: ...
    @abstractmethod
    def visit_and(self, node: And) -> T: ...
    @abstractmethod
    def visit_or(self, node: Or) -> T: ...
    @abstractmethod
    def visit_polars_expr(self, node: PolarsExpr) -> T: ...
    @abstractmethod
    def visit_equal_to(self, node: EqualTo) -> T: ...
    @abstractmethod
    def visit_not_equal_to(self, node: NotEqualTo) -> T: ...
    @abstractmethod
    def visit_less_than(self, node: LessThan) -> T: ...
    @abstractmethod
    def visit_less_than_or_equal(self, node: LessThanOrEqual) -> T: ...
    @abstractmethod
    def visit_greater_than(self, node: GreaterThan) -> T: ...
    @abstractmethod
    def visit_greater_than_or_equal(self, node: GreaterThanOrEqual) -> T: ...
    @abstractmethod
    def visit_in(self, node: In) -> T: ...
    @abstractmethod
    def visit_not_in(self, node: NotIn) -> T: ...
    @abstractmethod
    def visit_contains(self, node: Contains) -> T: ...
    @abstractmethod
    def visit_includes(self, node: Includes) -> T: ...
    @abstractmethod
    def visit_includes_any(self, node: IncludesAny) -> T: ...
    @abstractmethod
    def visit_includes_all(self, node: IncludesAll) -> T: ...
    @abstractmethod
    def visit_is_null(self, node: IsNull) -> T: ...
    @abstractmethod
    def visit_is_not_null(self, node: IsNotNull) -> T: ...
