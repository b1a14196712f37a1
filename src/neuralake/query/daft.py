"""``engine="daft"``: catalog tables and sandboxed SQL as lazy ``daft.DataFrame`` objects.

The same bound tables, the same predicate (rendered by
:class:`~neuralake.predicate.daft.ToDaft`), the same storage resolution and the same SQL
sandbox as the Polars path; only the engine differs. Delta and Parquet tables are read by
Daft's own readers (distributed on Ray when Daft runs there); function tables, whose plans
decide what they read, run their Polars frame in one Daft task and are not distributed.

Daft runs locally by default. :func:`use_ray` (or ``DAFT_RUNNER=ray``) runs every Daft frame
of the process on a Ray cluster: a local one, or ``ray://host:10001``.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from neuralake.errors import NeuralakeError, SQLError, UnsupportedFeatureError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import daft

    from neuralake import filters as flt
    from neuralake.catalog import Catalog
    from neuralake.storage import StorageConfig
    from neuralake.tables.base import Table

_INSTALL = "Install the distributed extra: pip install 'neuralake[distributed]'."
_RUNNER_LOCK = threading.Lock()


def require_daft() -> None:
    """Raise :class:`UnsupportedFeatureError` (with the install command) without ``daft``."""
    if importlib.util.find_spec("daft") is None:
        raise UnsupportedFeatureError(f"engine='daft' needs the daft package. {_INSTALL}")


def use_ray(address: str | None = None) -> None:
    """Run Daft frames of this process on Ray: the cluster at ``address`` (``ray://...`` or
    ``host:port``), else the one ``RAY_ADDRESS`` names, else a local one Ray starts.

    Daft chooses its runner once per process: call this before the first Daft frame runs.

    Raises:
        UnsupportedFeatureError: ``daft``/``ray`` are missing, or Daft already runs elsewhere.
    """
    require_daft()
    if importlib.util.find_spec("ray") is None:
        raise UnsupportedFeatureError(f"Running Daft on Ray needs the ray package. {_INSTALL}")
    import daft

    with _RUNNER_LOCK:
        try:
            daft.set_runner_ray(address=address, noop_if_initialized=True)
        except Exception as exc:  # Daft raises a bare DaftError/RuntimeError here
            raise UnsupportedFeatureError(
                f"Cannot run Daft on Ray at {address or 'a local cluster'}: {exc}. Daft picks "
                "its runner once per process: call use_ray() before the first Daft query."
            ) from exc


def scan(
    table: Table,
    filters: flt.FilterSpec = None,
    columns: Sequence[str] | None = None,
    *,
    storage: StorageConfig | None = None,
    **params: Any,
) -> daft.DataFrame:
    """``table`` read by Daft with ``filters`` and ``columns`` pushed down: the same rows and
    columns as :meth:`Table.scan <neuralake.tables.base.Table.scan>`.

    Raises:
        InvalidFilterError: As for the Polars path; also for ``pl.Expr`` filters.
        UnsupportedFeatureError: The table uses a feature Daft cannot read correctly.
    """
    require_daft()
    from neuralake.predicate import AlwaysTrue, bind
    from neuralake.predicate.daft import ToDaft
    from neuralake.tables.daft import from_polars, polars_schema

    label = table.qualified_name
    cfg = table.resolve_storage(storage)
    declared = table.declared_schema
    pred = bind(filters, declared, table=label) if declared is not None else filters
    cols = table.check_columns(columns)
    df = table.read_daft(pred, cols, cfg, **params)
    if df is None:  # computed tables: the Polars scan, run in one Daft task
        return from_polars(table.scan(filters, columns, storage=storage, **params))
    schema = declared if declared is not None else polars_schema(df)
    cols = table.check_columns(cols, schema)
    bound = bind(pred, schema, table=label)
    if not isinstance(bound, AlwaysTrue):
        df = df.where(bound.accept(ToDaft()))
    return df.select(*cols) if cols is not None else df


def run_sql(catalog: Catalog, query: str) -> daft.DataFrame:
    """Check ``query`` with the sandbox and plan it with Daft's SQL engine over catalog tables
    read by :func:`scan` (the rules of :meth:`Catalog.sql <neuralake.catalog.Catalog.sql>`;
    file table functions are never allowed here).

    Each table reference is replaced in the checked tree by a binding name (its alias, or
    the table's own name, kept), so Daft resolves nothing by name outside the catalog.
    """
    require_daft()
    import daft
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.scope import traverse_scope

    from neuralake.query.sandbox import engine_sql
    from neuralake.query.sql import prepare
    from neuralake.tables.daft import polars_schema

    tree, tables, frames = prepare(
        catalog, query, lambda q: scan(catalog.get_table(q)), polars_schema
    )
    bindings: dict[str, daft.DataFrame] = {}
    names = {q: f"__neuralake_{i}" for i, q in enumerate(frames)}
    try:
        query_tree = tree.expression if isinstance(tree, exp.Command) else tree
        scopes = traverse_scope(query_tree)
        read = [
            tables[_sql_name(node)]
            for scope in scopes
            for node in scope.sources.values()
            if isinstance(node, exp.Table)
        ]
        for scope in scopes:
            sources = list(scope.sources.values())
            for node in [s for s in sources if isinstance(s, exp.Table)]:
                q = tables[_sql_name(node)]
                if len(sources) == 1 and read.count(q) == 1:
                    frames[q] = _pushed_down(frames[q], scope.expression, node)
                bindings[names[q]] = frames[q]
                alias = node.alias or node.name
                node.replace(
                    exp.Table(
                        this=exp.to_identifier(names[q]),
                        alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)),
                    )
                )
        for select in query_tree.find_all(exp.Select):
            _bare_names(select)
    except SqlglotError as exc:
        raise SQLError(f"Cannot run SQL query: {exc}") from exc
    try:
        return daft.sql(engine_sql(tree), register_globals=False, **bindings)
    except NeuralakeError:
        raise
    except Exception as exc:  # Daft raises its own errors for unknown columns and types
        raise SQLError(f"Cannot run SQL query on the Daft engine: {exc}") from exc


def _sql_name(table: exp.Table) -> str:
    """The key of ``table`` in :func:`~neuralake.query.sql.prepare`'s ``{SQL name: table}``."""
    return ".".join(p.name.lower() for p in table.parts)


def _pushed_down(frame: daft.DataFrame, select: exp.Expr, table: exp.Table) -> daft.DataFrame:
    """``frame`` filtered by the plain conjuncts of ``select``'s ``WHERE`` (``table`` being its
    only source), as typed literals: Daft's SQL planner keeps ``DATE '...'`` as a cast of a
    string, which its scan does not skip data with (TPC-H Q6 283 ms, 110 ms with this). The
    ``WHERE`` itself stays in the query; a table read twice is left alone (one frame)."""
    from neuralake.predicate.daft import ToDaft
    from neuralake.predicate.sqlparse import plain_predicate
    from neuralake.predicate.tree import and_
    from neuralake.tables.daft import polars_schema

    where = select.args.get("where") if isinstance(select, exp.Select) else None
    if where is None:
        return frame
    schema, alias = polars_schema(frame), table.alias_or_name
    found = []
    # flatten() splits a chain of the root's own class: only an AND chain is conjuncts
    conjuncts = where.this.flatten() if isinstance(where.this, exp.And) else [where.this]
    for conjunct in conjuncts:
        bare = conjunct.copy()
        for column in bare.find_all(exp.Column):
            if column.table == alias:
                column.set("table", None)
        pred = plain_predicate(bare, schema)
        if pred is not None:
            found.append(pred)
    return frame.where(and_(*found).accept(ToDaft())) if found else frame


def _bare_names(select: exp.Select) -> None:
    """Name unaliased qualified columns by the column alone (``h.p`` is ``p``), as Polars does."""
    for projection in list(select.expressions):
        if isinstance(projection, exp.Column) and projection.table:
            projection.replace(exp.alias_(projection.copy(), projection.name, quoted=True))
