"""ROAPI renderers: ``ToRest`` (``filter[col]op=value`` query parameters of
``/api/tables/<name>``) and ``ToDataFusionSql`` (the ``WHERE`` condition for ``/api/sql``,
which ROAPI runs with DataFusion)."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

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
from neuralake.predicate.tree import (
    AlwaysFalse,
    AlwaysTrue,
    And,
    Comparison,
    Leaf,
    NotRenderableError,
    Or,
    PolarsExpr,
    SetLeaf,
)
from neuralake.predicate.visitor import PredicateVisitor

if TYPE_CHECKING:
    from sqlglot import exp

RestParams = list[tuple[str, str]]

#: Operators ROAPI's REST endpoint understands, as ``filter[col]OP=value`` suffixes.
REST_OPS = {"=": "", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
_REST_NAME = re.compile(r"^[A-Za-z0-9_]+$")  # anything else would break `filter[...]`
_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")  # DataFusion folds unquoted names to lower case


def rest_value(value: Any, dtype: Any = None) -> str | None:
    """A filter value in ROAPI's REST syntax (``'quoted'`` string or number), else ``None``."""
    if isinstance(value, bool):
        return None
    if dtype is not None and dtype.is_float() and value == 0:
        return None  # ROAPI orders floats totally (-0.0 < 0.0); /api/sql corrects for it
    if isinstance(value, float) and dtype is not None and dtype.is_integer():
        if value % 1:
            return None  # 1.5 matches no integer: the SQL form says so exactly
        value = int(value)
    if isinstance(value, int | float):
        # ROAPI parses no sign, inf or nan in REST values; /api/sql takes them instead.
        return repr(value) if value - value == 0 and value >= 0 else None
    if isinstance(value, dt.date | dt.datetime):
        value = value.isoformat()
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return None


class ToRest(PredicateVisitor[RestParams | None]):
    """Render a conjunction of ``= < <= > >=`` comparisons as ROAPI REST query parameters;
    ``None`` when REST cannot express the predicate (use :class:`ToDataFusionSql`)."""

    def visit_always_true(self, node: AlwaysTrue) -> RestParams | None:
        return []

    def visit_always_false(self, node: AlwaysFalse) -> RestParams | None:
        return None

    def visit_and(self, node: And) -> RestParams | None:
        params: RestParams = []
        for child in node.children:
            part = child.accept(self)
            if part is None:
                return None
            params.extend(part)
        keys = [key for key, _ in params]
        # ROAPI keeps only one value per parameter name: `k = 0 AND k = 1` would lose a term.
        return params if len(set(keys)) == len(keys) else None

    def visit_or(self, node: Or) -> RestParams | None:
        return None

    def visit_polars_expr(self, node: PolarsExpr) -> RestParams | None:
        return None

    def _param(self, node: Comparison) -> RestParams | None:
        value = rest_value(node.value, node.dtype)
        if value is None or not _REST_NAME.match(node.column):
            return None
        return [(f"filter[{node.column}]{REST_OPS[node.op]}", value)]

    def visit_equal_to(self, node: EqualTo) -> RestParams | None:
        return self._param(node)

    def visit_less_than(self, node: LessThan) -> RestParams | None:
        return self._param(node)

    def visit_less_than_or_equal(self, node: LessThanOrEqual) -> RestParams | None:
        return self._param(node)

    def visit_greater_than(self, node: GreaterThan) -> RestParams | None:
        return self._param(node)

    def visit_greater_than_or_equal(self, node: GreaterThanOrEqual) -> RestParams | None:
        return self._param(node)

    def _none(self, node: Any) -> RestParams | None:
        return None

    visit_not_equal_to = visit_in = visit_not_in = visit_contains = _none
    visit_includes = visit_includes_any = visit_includes_all = _none
    visit_is_null = visit_is_not_null = _none


class ToDataFusionSql(PredicateVisitor["exp.Expr"]):
    """Render a predicate as a sqlglot condition for DataFusion (ROAPI's ``/api/sql``).

    Raises:
        NotRenderableError: For a ``pl.Expr`` given directly.
    """

    def __init__(self) -> None:
        from sqlglot import exp  # imported on use: sqlglot takes longer to import than polars

        self.exp = exp

    def col(self, name: str) -> exp.Expr:
        return self.exp.column(name, quoted=not _PLAIN.match(name))

    def lit(self, value: Any) -> exp.Expr:
        e = self.exp
        out: exp.Expr
        if isinstance(value, bool):
            out = e.true() if value else e.false()
        elif isinstance(value, int | float) and value - value != 0:  # inf / nan
            out = e.cast(e.Literal.string(str(value)), "DOUBLE")
        elif isinstance(value, int | float):
            out = e.Literal.number(value)
        elif isinstance(value, dt.date | dt.datetime):
            out = e.Literal.string(value.isoformat())
        else:
            out = e.Literal.string(str(value))
        return out

    def visit_always_true(self, node: AlwaysTrue) -> exp.Expr:
        return self.exp.true()

    def visit_always_false(self, node: AlwaysFalse) -> exp.Expr:
        return self.exp.false()

    def visit_and(self, node: And) -> exp.Expr:
        return self.exp.and_(*(c.accept(self) for c in node.children))

    def visit_or(self, node: Or) -> exp.Expr:
        return self.exp.or_(*(c.accept(self) for c in node.children))

    def visit_polars_expr(self, node: PolarsExpr) -> exp.Expr:
        raise NotRenderableError(
            f"The Polars expression {node} has no SQL form; pass Filter objects instead."
        )

    def _operand(self, node: Leaf, values: tuple[Any, ...]) -> exp.Expr:
        """The column, as ``col + 0.0`` where a float column meets a zero: DataFusion orders
        floats totally (``-0.0 < 0.0``), Polars does not, and adding 0.0 turns -0.0 into 0.0."""
        col = self.col(node.column)
        if node.dtype.is_float() and any(isinstance(v, int | float) and v == 0 for v in values):
            return self.exp.Add(this=col, expression=self.exp.Literal.number(0.0))
        return col

    def _compare(self, node: Comparison, cls: Any) -> exp.Expr:
        value = 0.0 if node.value == 0 and node.dtype.is_float() else node.value
        this = self._operand(node, (value,))
        return cls(this=this, expression=self.lit(value))  # type: ignore[no-any-return]

    def _isin(self, node: SetLeaf) -> exp.Expr:
        values = [0.0 if v == 0 and node.dtype.is_float() else v for v in node.matchable]
        return self._operand(node, tuple(values)).isin(*(self.lit(v) for v in values))

    def visit_equal_to(self, node: EqualTo) -> exp.Expr:
        return self._compare(node, self.exp.EQ)

    def visit_not_equal_to(self, node: NotEqualTo) -> exp.Expr:
        return self._compare(node, self.exp.NEQ)

    def visit_less_than(self, node: LessThan) -> exp.Expr:
        return self._compare(node, self.exp.LT)

    def visit_less_than_or_equal(self, node: LessThanOrEqual) -> exp.Expr:
        return self._compare(node, self.exp.LTE)

    def visit_greater_than(self, node: GreaterThan) -> exp.Expr:
        return self._compare(node, self.exp.GT)

    def visit_greater_than_or_equal(self, node: GreaterThanOrEqual) -> exp.Expr:
        return self._compare(node, self.exp.GTE)

    def visit_in(self, node: In) -> exp.Expr:
        if not node.matchable:
            return self.exp.false()
        return self._isin(node)

    def visit_not_in(self, node: NotIn) -> exp.Expr:
        if not node.values:
            return self.exp.true()
        if not node.matchable:  # no value the column can hold: every non-null cell passes
            return self.visit_is_not_null(IsNotNull(node.column, node.dtype))
        return self.exp.not_(self._isin(node))

    def visit_contains(self, node: Contains) -> exp.Expr:
        # Anonymous keeps DataFusion's own names: sqlglot would rename strpos / array_has.
        found = self.exp.Anonymous(
            this="strpos", expressions=[self.col(node.column), self.lit(node.value)]
        )
        return self.exp.GT(this=found, expression=self.exp.Literal.number(0))

    def _has(self, column: str, value: Any) -> exp.Expr:
        return self.exp.Anonymous(this="array_has", expressions=[self.col(column), self.lit(value)])

    def visit_includes(self, node: Includes) -> exp.Expr:
        return self._has(node.column, node.value)

    def visit_includes_any(self, node: IncludesAny) -> exp.Expr:
        if not node.values:
            return self.exp.false()
        return self.exp.or_(*(self._has(node.column, v) for v in node.values))

    def visit_includes_all(self, node: IncludesAll) -> exp.Expr:
        if not node.values:
            return self.visit_is_not_null(IsNotNull(node.column, node.dtype))
        return self.exp.and_(*(self._has(node.column, v) for v in node.values))

    def visit_is_null(self, node: IsNull) -> exp.Expr:
        return self.exp.Is(this=self.col(node.column), expression=self.exp.null())

    def visit_is_not_null(self, node: IsNotNull) -> exp.Expr:
        return self.exp.not_(self.visit_is_null(IsNull(node.column, node.dtype)))
