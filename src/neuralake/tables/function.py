"""Tables computed by Python functions: ``@table`` and ``FunctionTable``."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, overload

import polars as pl

from neuralake import filters as flt
from neuralake.errors import InvalidParameterError, NeuralakeError, StorageError
from neuralake.metadata import SourceLocation
from neuralake.storage import StorageConfig
from neuralake.tables.base import Table, check_castable, normalize
from neuralake.tables.facts import StoredLayout

FrameFunction = Callable[..., pl.LazyFrame | pl.DataFrame]

# Polars has no stable structured plan (JSON serialisation is deprecated and pickles Delta
# scans), so the scan lines of the ``explain()`` text are parsed; the optimised plan is used
# because only it shows the files of Delta scans.
_SCAN = re.compile(r"^\s*\w+ SCAN \[(.*)\]\s*$", re.MULTILINE)
_MORE = re.compile(r"^\.\.\. \d+ other sources?$")


def scanned_paths(plan: str) -> tuple[str, ...]:
    """The paths of the file scans in an ``explain()`` text, in order, without duplicates.

    Example:
        >>> scanned_paths("Parquet SCAN [/lake/t/part-0.parquet, ... 3 other sources]")
        ('/lake/t/part-0.parquet',)
    """
    found: dict[str, None] = {}
    for m in _SCAN.finditer(plan):
        for piece in m[1].split(", "):
            # Sources without a separator are in-memory or Python scans (``PL_PY_DSET``).
            if ("/" in piece or "\\" in piece) and not _MORE.match(piece):
                found[piece] = None
    return tuple(found)


class FunctionTable(Table):
    """A table whose rows come from a Python function returning a (Lazy)DataFrame.

    The function receives ``filters`` and ``columns`` only if its signature names them; it then
    applies them itself (pushing them further down) and the catalog neither re-validates nor
    re-applies them. Those it does not take, the catalog applies to the returned frame. Any
    other keyword parameters of the function are table parameters.

    Example:
        >>> import polars as pl
        >>> from neuralake import Filter
        >>> def nation() -> pl.LazyFrame:
        ...     return pl.LazyFrame({"n_nationkey": [0, 1], "n_name": ["ALGERIA", "ARGENTINA"]})
        >>> t = FunctionTable(nation, owner="data-eng")
        >>> t(filters=[Filter("n_nationkey", "=", 1)]).collect()["n_name"].to_list()
        ['ARGENTINA']
    """

    table_type = "function"

    def __init__(self, func: FrameFunction, *, name: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("description", inspect.getdoc(func) or "")
        try:
            file: str | None = inspect.getsourcefile(func)
        except TypeError:
            file = None
        kwargs.setdefault(
            "source",
            SourceLocation(func.__module__, func.__qualname__, file, func.__code__.co_firstlineno),
        )
        super().__init__(name or func.__name__, **kwargs)
        self.func = func
        self.signature = inspect.signature(func)
        self.__doc__ = func.__doc__
        self.__wrapped__ = func

    @property
    def parameters(self) -> dict[str, inspect.Parameter]:
        """The function's own table parameters (everything except ``filters``/``columns``)."""
        return {
            k: p for k, p in self.signature.parameters.items() if k not in ("filters", "columns")
        }

    def layout(self, storage: StorageConfig | None = None) -> StoredLayout:
        """The schema the function's frame reports, before it is conformed to the declaration."""
        return StoredLayout(self._call(None, None, {}).collect_schema())

    def plan_sources(self) -> tuple[str, ...]:
        """The paths the function's frame scans, from its plan (nothing is read but what
        Polars needs to plan: folder listings and Delta logs).

        Raises:
            InvalidParameterError: The function needs parameters, so it cannot be called
                without them.
        """
        needed = [k for k, p in self.parameters.items()
                  if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]  # fmt: skip
        if needed:
            raise InvalidParameterError(f"needs parameter(s) {', '.join(needed)}")
        return scanned_paths(self._call(None, None, {}).explain())

    @property
    def pushdown(self) -> tuple[bool, bool]:
        names = self.signature.parameters
        return ("filters" in names, "columns" in names)

    def read(
        self,
        filters: flt.FilterSpec,
        columns: tuple[str, ...] | None,
        storage: StorageConfig,
        **params: Any,
    ) -> pl.LazyFrame:
        unknown = sorted(set(params) - set(self.parameters))
        if unknown and not any(p.kind is p.VAR_KEYWORD for p in self.signature.parameters.values()):
            raise InvalidParameterError(
                f"Table {self.qualified_name!r} has no parameter {', '.join(map(repr, unknown))}. "
                f"Parameters: {', '.join(self.parameters) or 'none'}."
            )
        result = self._call(filters, columns, params)
        if self.declared_schema is None:
            return result
        source = result.collect_schema()
        check_castable(source, self.declared_schema, self.qualified_name)
        return normalize(result, source, self.declared_schema)

    def _call(
        self, filters: flt.FilterSpec, columns: tuple[str, ...] | None, params: dict[str, Any]
    ) -> pl.LazyFrame:
        """Call the function with the arguments its signature takes; always a LazyFrame."""
        self._check_required(params)
        kwargs = dict(params)
        if "filters" in self.signature.parameters:
            kwargs["filters"] = filters
        if "columns" in self.signature.parameters:
            kwargs["columns"] = list(columns) if columns is not None else None
        try:
            result = self.func(**kwargs)
        except NeuralakeError:
            raise
        except OSError as exc:  # e.g. the folder the function reads is missing
            raise StorageError(
                f"Table {self.qualified_name!r}: its function {self.func.__qualname__} failed "
                f"to read storage: {exc}"
            ) from exc
        if isinstance(result, pl.DataFrame):
            result = result.lazy()
        if not isinstance(result, pl.LazyFrame):
            raise InvalidParameterError(
                f"Table function {self.func.__qualname__} returned {type(result).__name__}; "
                "it must return a polars DataFrame or LazyFrame."
            )
        return result

    def _check_required(self, params: dict[str, Any]) -> None:
        """Refuse a read missing a required table parameter before the function sees it."""
        missing = [
            k
            for k, p in self.parameters.items()
            if p.default is p.empty
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            and k not in params
        ]
        if not missing:
            return
        example = ", ".join(f"{k}=..." for k in missing)
        raise InvalidParameterError(
            f"Table {self.qualified_name!r} needs parameter{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(repr, missing))}. Pass {'them' if len(missing) > 1 else 'it'} to "
            f"the read: catalog.table({self.qualified_name!r}, {example}). SQL cannot pass "
            "table parameters; give them defaults to make the table readable from "
            "catalog.sql."
        )


@overload
def table(func: FrameFunction, /) -> FunctionTable: ...
@overload
def table(
    *, name: str | None = None, database: str | None = None, **kwargs: Any
) -> Callable[[FrameFunction], FunctionTable]: ...


def table(
    func: FrameFunction | None = None,
    /,
    *,
    name: str | None = None,
    database: str | None = None,
    **kwargs: Any,
) -> FunctionTable | Callable[[FrameFunction], FunctionTable]:
    """Declare a function table and register it in ``default_catalog`` (in ``database``, by
    default the defining module's: see :func:`neuralake.catalog.module_database`).

    Usable bare (``@table``) or with the metadata arguments of :class:`Table`
    (``@table(owner=..., tags=[...], docs_filters=[...])``). The docstring becomes the
    description.

    Example:
        >>> import polars as pl
        >>> @table(owner="data-eng", database="doc_example")
        ... def region() -> pl.LazyFrame:
        ...     '''The five TPC-H regions.'''
        ...     return pl.LazyFrame({"r_regionkey": range(5)})
        >>> region.description
        'The five TPC-H regions.'
    """

    def wrap(f: FrameFunction) -> FunctionTable:
        from neuralake.catalog import register_static_table

        t = FunctionTable(f, name=name, **kwargs)
        register_static_table(t, database)  # no database: the defining module's
        return t

    return wrap(func) if func is not None else wrap
