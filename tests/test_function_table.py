"""Function tables: @table, parameters, filter/column hand-off and return types."""

from __future__ import annotations

import inspect
from typing import Any

import polars as pl
import pytest

from neuralake import (
    Catalog,
    Database,
    Filter,
    FunctionTable,
    InvalidFilterError,
    InvalidParameterError,
    SchemaMismatchError,
    table,
)

ROWS = pl.DataFrame({"k": [1, 2, 3, 4], "s": ["a", "b", "c", "d"]})


def test_bare_decorator_registers_in_default_database(clean_default_catalog: Catalog) -> None:
    @table
    def nl_bare_supplier() -> pl.LazyFrame:
        """Supplier master data.

        Docstring becomes the **description**.
        """
        return ROWS.lazy()

    assert isinstance(nl_bare_supplier, FunctionTable)
    assert nl_bare_supplier.name == "nl_bare_supplier"
    assert nl_bare_supplier.description == (
        "Supplier master data.\n\nDocstring becomes the **description**."
    )
    assert clean_default_catalog.get_table("default.nl_bare_supplier") is nl_bare_supplier
    assert clean_default_catalog.table("nl_bare_supplier").collect().height == 4
    # The wrapped function is still reachable and the object is callable like a table.
    assert nl_bare_supplier.__wrapped__() is not None
    assert nl_bare_supplier(filters=[Filter("k", "=", 2)]).collect()["s"].to_list() == ["b"]


def test_decorator_with_arguments(clean_default_catalog: Catalog) -> None:
    @table(
        name="nl_supplier",
        database="nl_fn_db",
        owner="data-eng",
        tags=["tpch"],
        docs_filters=[Filter("k", "=", 1)],
        extra={"latency_info": "hourly"},
    )
    def supplier_impl(s_nationkey: int | None = None) -> pl.LazyFrame:
        """Suppliers by nation."""
        lf = ROWS.lazy()
        return lf if s_nationkey is None else lf.filter(pl.col("k") == s_nationkey)

    assert supplier_impl.name == "nl_supplier"
    meta = clean_default_catalog.describe_table("nl_fn_db.nl_supplier")
    assert (meta.owner, meta.tags, meta.description) == (
        "data-eng",
        ("tpch",),
        "Suppliers by nation.",
    )
    assert meta.docs_filters == (Filter("k", "=", 1),)
    assert meta.source is not None
    assert meta.source.qualname.endswith("supplier_impl")
    assert meta.source.file == __file__
    assert meta.source.line == inspect.getsourcelines(supplier_impl.func)[1]
    assert dict(meta.extra) == {"latency_info": "hourly"}
    assert list(supplier_impl.parameters) == ["s_nationkey"]
    lf = clean_default_catalog.table("nl_fn_db.nl_supplier", s_nationkey=3)
    assert lf.collect()["s"].to_list() == ["c"]


def test_function_accepting_filters_and_columns_receives_them() -> None:
    received: dict[str, Any] = {}

    def pushdown(filters: Any = None, columns: list[str] | None = None) -> pl.LazyFrame:
        received["filters"] = filters
        received["columns"] = columns
        # It takes both, so it applies both itself: the catalog does not re-apply them.
        return ROWS.lazy().filter(pl.col("k") > 2).select(columns or ROWS.columns)

    cat = Catalog({"db": Database([FunctionTable(pushdown)])})
    flt = [Filter("k", ">", 2)]
    out = cat.table("db.pushdown", filters=flt, columns=["s"]).collect()
    assert received == {"filters": flt, "columns": ["s"]}
    assert out.columns == ["s"]
    assert out["s"].to_list() == ["c", "d"]
    assert FunctionTable(pushdown).parameters == {}


def test_function_doing_its_own_pushdown_is_not_refiltered_on_the_projection() -> None:
    received: dict[str, Any] = {}

    def orders(filters: Any = None, columns: list[str] | None = None) -> pl.LazyFrame:
        received.update(filters=filters, columns=columns)
        rows = pl.LazyFrame({"id": [1, 2, 3], "quantity": [5, 10, 20]})
        return rows.filter(pl.col("quantity") >= 10).select(columns or ["id", "quantity"])

    cat = Catalog({"db": Database([FunctionTable(orders)])})
    wanted = [Filter("quantity", ">=", 10)]
    out = cat.table("db.orders", filters=wanted, columns=["id"]).collect()
    assert received == {"filters": wanted, "columns": ["id"]}
    assert out.to_dict(as_series=False) == {"id": [2, 3]}


def test_function_that_pushes_down_itself_gives_same_result() -> None:
    def smart(filters: Any = None) -> pl.LazyFrame:
        lf = ROWS.lazy()
        return lf.filter(pl.col("k") > 2) if filters else lf

    cat = Catalog({"db": Database([FunctionTable(smart)])})
    assert cat.table("db.smart", filters=[Filter("k", ">", 2)]).collect()["k"].to_list() == [3, 4]


def test_function_without_filter_arguments_is_filtered_by_catalog() -> None:
    calls: list[dict[str, Any]] = []

    def plain(**kwargs: Any) -> pl.DataFrame:
        calls.append(kwargs)
        return ROWS

    cat = Catalog({"db": Database([FunctionTable(plain)])})
    lf = cat.table(
        "db.plain", filters=[[Filter("k", "=", 1)], [Filter("s", "=", "d")]], columns=["k"]
    )
    assert calls == [{}]  # no filters/columns forced on it
    assert lf.collect()["k"].to_list() == [1, 4]


def test_dataframe_return_becomes_lazyframe() -> None:
    t = FunctionTable(lambda: ROWS, name="eager")
    lf = Catalog({"db": Database([t])}).table("db.eager")
    assert isinstance(lf, pl.LazyFrame)
    assert lf.collect().equals(ROWS)


@pytest.mark.parametrize("bad", [None, [1, 2], {"k": [1]}, "SELECT 1", 42])
def test_bad_return_type_is_refused(bad: object) -> None:
    def broken() -> Any:
        return bad

    with pytest.raises(InvalidParameterError, match=r"broken returned .*must return a polars"):
        Catalog({"db": Database([FunctionTable(broken)])}).table("db.broken")


def test_unknown_parameter_is_refused() -> None:
    def with_param(year: int = 2024) -> pl.LazyFrame:
        return pl.LazyFrame({"year": [year]})

    cat = Catalog({"db": Database([FunctionTable(with_param)])})
    assert cat.table("db.with_param", year=1999).collect()["year"].to_list() == [1999]
    with pytest.raises(InvalidParameterError, match=r"no parameter 'yaer'.*Parameters: year"):
        cat.table("db.with_param", yaer=1999)
    no_params = FunctionTable(lambda: ROWS, name="none_taken")
    with pytest.raises(InvalidParameterError, match=r"no parameter 'x'.*Parameters: none"):
        no_params(x=1)


def test_var_keyword_function_accepts_any_parameter() -> None:
    def flexible(**params: Any) -> pl.LazyFrame:
        return pl.LazyFrame({"keys": [",".join(sorted(params))]})

    assert FunctionTable(flexible)(a=1, b=2).collect()["keys"].to_list() == ["a,b"]


def test_declared_schema_normalises_function_output() -> None:
    def raw() -> pl.LazyFrame:
        return pl.LazyFrame({"s": ["x"], "k": pl.Series([7], dtype=pl.Int32)})

    t = FunctionTable(raw, schema={"k": pl.Int64, "s": pl.String, "extra": pl.Float64})
    out = t().collect()
    assert out.schema == pl.Schema({"k": pl.Int64, "s": pl.String, "extra": pl.Float64})
    assert out.row(0) == (7, "x", None)


def test_declared_schema_that_cannot_be_cast_is_refused() -> None:
    def raw() -> pl.LazyFrame:
        return pl.LazyFrame({"k": ["not a number"]})

    t = FunctionTable(raw, schema={"k": pl.Int64})
    with pytest.raises(SchemaMismatchError, match=r"'raw'.*k: stored string, declared int64"):
        t()


def test_schema_is_discovered_when_not_declared() -> None:
    t = FunctionTable(lambda: ROWS.lazy(), name="disc")
    assert t.schema() == ROWS.schema
    assert t.bind("db").metadata().columns is not None


def test_filter_on_unknown_column_of_function_table() -> None:
    t = FunctionTable(lambda: ROWS.lazy(), name="f")
    with pytest.raises(InvalidFilterError, match=r"Unknown filter column 'kk'.*Did you mean 'k'"):
        t(filters=[Filter("kk", "=", 1)])


def test_read_is_lazy_until_collect() -> None:
    calls: list[int] = []

    def count(batch: pl.DataFrame) -> pl.DataFrame:
        calls.append(batch.height)
        return batch

    def slow() -> pl.LazyFrame:
        return ROWS.lazy().map_batches(count, schema=ROWS.schema)

    cat = Catalog({"db": Database([FunctionTable(slow)])})
    lf = cat.table("db.slow", filters=[Filter("k", ">", 1)], columns=["s"])
    assert calls == []  # planning the read computed nothing
    assert lf.collect()["s"].to_list() == ["b", "c", "d"]
    assert calls


def test_missing_folder_while_called_is_a_storage_error(tmp_path: Any) -> None:
    from neuralake import StorageError

    def events() -> pl.LazyFrame:
        return pl.read_parquet(tmp_path / "missing" / "part-0.parquet").lazy()

    catalog = Catalog({"raw": Database([FunctionTable(events)])}, name="fn_storage")
    with pytest.raises(StorageError, match=r"'raw\.events'") as info:
        catalog.table("raw.events")
    assert isinstance(info.value.__cause__, OSError)


def test_required_parameter_missing_names_table_and_how_to_pass_it() -> None:
    def daily(day: str, region: str, limit: int = 10) -> pl.LazyFrame:
        return ROWS.lazy().head(limit)

    catalog = Catalog({"ops": Database([FunctionTable(daily)])}, name="fn_params")
    with pytest.raises(InvalidParameterError) as info:
        catalog.table("ops.daily", region="eu")
    message = str(info.value)
    assert "'ops.daily'" in message
    assert "'day'" in message
    assert "'region'" not in message
    assert "catalog.table('ops.daily', day=...)" in message
    with pytest.raises(InvalidParameterError, match=r"'day', 'region'.*catalog\.sql"):
        catalog.sql("SELECT * FROM ops.daily")
    assert catalog.table("ops.daily", day="d", region="eu", limit=2).collect().height == 2


def test_bare_decorator_uses_the_defining_modules_database(clean_default_catalog: Catalog) -> None:
    from neuralake.catalog import module_database

    @table
    def nl_module_db_table() -> pl.LazyFrame:
        return ROWS.lazy()

    db = module_database(__name__)
    assert db == __name__.replace(".", "_")
    assert clean_default_catalog.get_table(f"{db}.nl_module_db_table") is nl_module_db_table
    # Lookups written for the old shared "default" database still find it.
    assert clean_default_catalog.get_table("default.nl_module_db_table") is nl_module_db_table


def test_table_parameters_are_recorded_in_metadata_and_the_export() -> None:
    import datetime as dt

    from neuralake.export.entry import TableEntry
    from neuralake.metadata import TableParameter

    def daily(
        day: dt.date, region: str = "eu", limit: int | None = None, filters: Any = None, **kw: Any
    ) -> pl.LazyFrame:
        return ROWS.lazy()

    cat = Catalog({"ops": Database([FunctionTable(daily)])})
    meta = cat.describe_table("ops.daily")
    assert meta.parameters == (
        TableParameter("day", "dt.date", None, True),
        TableParameter("region", "str", "'eu'", False),
        TableParameter("limit", "int | None", "None", False),
    )
    as_dict = meta.to_dict()
    assert as_dict["parameters"] == [
        {"name": "day", "annotation": "dt.date", "default": None, "required": True},
        {"name": "region", "annotation": "str", "default": "'eu'", "required": False},
        {"name": "limit", "annotation": "int | None", "default": "None", "required": False},
    ]
    assert list(as_dict).index("parameters") == list(as_dict).index("docs_columns") + 1
    entry = TableEntry.of(cat.get_table("ops.daily"), include_freshness=False).to_dict()
    assert entry["parameters"] == as_dict["parameters"]
    plain = Catalog({"ops": Database([FunctionTable(lambda: ROWS.lazy(), name="plain")])})
    assert plain.describe_table("ops.plain").to_dict()["parameters"] == []
