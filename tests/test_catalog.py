"""Catalog: finding tables by name, listing, describing, deprecation, names and the default catalog."""

from __future__ import annotations

import dataclasses
import json
import sys
import types
from pathlib import Path

import polars as pl
import pytest

from neuralake import (
    AmbiguousTableError,
    Catalog,
    CatalogLoadError,
    ColumnNotFoundError,
    Database,
    DatabaseHandle,
    DatabaseNotFoundError,
    DeprecatedTableWarning,
    DuplicateTableError,
    Filter,
    FunctionTable,
    InvalidNameError,
    ModuleDatabase,
    NeuralakeError,
    ParquetTable,
    Partition,
    TableMetadata,
    TableNotFoundError,
    default_catalog,
    export_catalog_metadata,
    load_catalog,
    register_static_table,
)


def frame_table(name: str, **kwargs: object) -> FunctionTable:
    data = pl.DataFrame({"k": [1, 2, 3], "name": ["a", "b", "c"]})
    return FunctionTable(lambda: data.lazy(), name=name, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def catalog() -> Catalog:
    return Catalog(
        {
            "tpch": Database([frame_table("orders"), frame_table("lineitem"), frame_table("part")]),
            "sales": Database([frame_table("orders"), frame_table("customers")]),
            "archive": Database([frame_table("old", deprecated="Use tpch.orders instead.")]),
        },
        name="demo",
    )


def test_db_table_returns_lazyframe(catalog: Catalog) -> None:
    lf = catalog.db("tpch").table("orders", filters=[Filter("k", ">", 1)], columns=["name"])
    assert isinstance(lf, pl.LazyFrame)
    assert lf.collect()["name"].to_list() == ["b", "c"]


def test_qualified_name(catalog: Catalog) -> None:
    assert catalog.table("tpch.part").collect().height == 3


def test_bare_name_when_unambiguous(catalog: Catalog) -> None:
    assert catalog.table("customers", columns=["k"]).collect()["k"].to_list() == [1, 2, 3]
    assert catalog.get_table("lineitem") is catalog.get_table("tpch.lineitem")


def test_bare_name_in_several_databases_is_ambiguous(catalog: Catalog) -> None:
    with pytest.raises(AmbiguousTableError, match=r"'orders'.*sales\.orders, tpch\.orders"):
        catalog.table("orders")


def test_table_not_found_suggests_close_matches(catalog: Catalog) -> None:
    with pytest.raises(TableNotFoundError, match=r"No table 'ordrs' in database 'tpch'.*'orders'"):
        catalog.table("tpch.ordrs")
    with pytest.raises(TableNotFoundError, match=r"'lineitems' in catalog 'demo'.*'lineitem'"):
        catalog.table("lineitems")
    with pytest.raises(TableNotFoundError, match="neuralake tables"):
        catalog.table("zzzzzz")


def test_database_not_found_suggests_close_matches(catalog: Catalog) -> None:
    pattern = r"No database 'tpc'.*Did you mean 'tpch'.*Databases: archive, sales, tpch"
    with pytest.raises(DatabaseNotFoundError, match=pattern):
        catalog.db("tpc")
    with pytest.raises(DatabaseNotFoundError, match=r"'tpc'"):
        catalog.table("tpc.orders")
    with pytest.raises(DatabaseNotFoundError, match=r"'slaes'.*'sales'"):
        catalog.list_tables("slaes")


def test_errors_share_root_and_builtin_bases(catalog: Catalog) -> None:
    with pytest.raises(NeuralakeError):
        catalog.table("tpch.nope")
    with pytest.raises(LookupError):
        catalog.table("tpch.nope")


def test_list_tables_sorted_and_per_database(catalog: Catalog) -> None:
    assert catalog.list_tables() == [
        "sales.customers",
        "sales.orders",
        "tpch.lineitem",
        "tpch.orders",
        "tpch.part",
    ]
    assert catalog.list_tables("tpch") == ["tpch.lineitem", "tpch.orders", "tpch.part"]
    handle = catalog.db("sales")
    assert isinstance(handle, DatabaseHandle)
    assert handle.list_tables() == ["customers", "orders"]
    assert "sales" in repr(handle)


def test_dbs_sorted(catalog: Catalog) -> None:
    assert catalog.dbs == ["archive", "sales", "tpch"]
    empty = Catalog({"x": Database()})
    assert empty.dbs == ["x"]
    assert empty.list_tables() == []


def test_deprecated_tables_hidden_and_warn_when_read(catalog: Catalog) -> None:
    assert "archive.old" not in catalog.list_tables()
    assert catalog.list_tables(include_deprecated=True)[0] == "archive.old"
    assert catalog.db("archive").list_tables(include_deprecated=True) == ["old"]
    with pytest.warns(DeprecatedTableWarning, match=r"'archive\.old' is deprecated: Use tpch"):
        lf = catalog.table("archive.old")
    assert lf.collect().height == 3
    assert catalog.describe_table("archive.old").deprecated == "Use tpch.orders instead."


def test_non_deprecated_read_does_not_warn(
    catalog: Catalog, recwarn: pytest.WarningsRecorder
) -> None:
    catalog.table("tpch.part").collect()
    assert not [w for w in recwarn if issubclass(w.category, DeprecatedTableWarning)]


def test_describe_table_is_frozen_metadata(catalog: Catalog) -> None:
    t = FunctionTable(
        lambda: pl.LazyFrame({"k": [1], "tags": [["x"]], "pt": [{"a": 1, "b": "z"}]}),
        name="described",
        description="""
            Described **table**.

            Second paragraph.
            """,
        owner="data-eng",
        tags=["tpch", "core"],
        column_docs={"k": "Primary key"},
        docs_filters=[Filter("k", "=", 1)],
        docs_columns=["k"],
        extra={"latency_info": "daily", "data_input": "api"},
    )
    catalog.register(t, "tpch")
    meta = catalog.describe_table("tpch.described")
    assert isinstance(meta, TableMetadata)
    assert meta.qualified_name == "tpch.described"
    assert (meta.type, meta.owner, meta.tags) == ("function", "data-eng", ("tpch", "core"))
    assert meta.description == "Described **table**.\n\nSecond paragraph."
    assert meta.columns is not None
    assert [(c.name, c.type, c.description) for c in meta.columns] == [
        ("k", "int64", "Primary key"),
        ("tags", "list<string>", None),
        ("pt", "struct<a: int64, b: string>", None),
    ]
    assert meta.docs_filters == (Filter("k", "=", 1),)
    assert meta.source is not None
    assert meta.source.module == __name__
    with pytest.raises(dataclasses.FrozenInstanceError):
        meta.owner = "someone else"  # type: ignore[misc]
    data = meta.to_dict()
    assert list(data)[:4] == ["name", "database", "qualified_name", "type"]
    assert data["extra"] == {"data_input": "api", "latency_info": "daily"}
    assert data["docs_filters"] == [{"column": "k", "op": "=", "value": 1}]
    assert json.loads(json.dumps(data)) == data
    assert catalog.describe_table("tpch.described").to_dict() == data


def test_columns_selection_and_unknown_column(catalog: Catalog) -> None:
    assert catalog.table("tpch.part", columns=["name", "k"]).collect_schema().names() == [
        "name",
        "k",
    ]
    with pytest.raises(ColumnNotFoundError, match=r"no column 'nme'.*Did you mean 'name'"):
        catalog.table("tpch.part", columns=["nme"])


@pytest.mark.parametrize("bad", ["", "a/b", "..", "a\x00b", "a.b", "a b", "1abc", "a-b", None])
def test_invalid_table_names(bad: object) -> None:
    with pytest.raises(InvalidNameError, match="Invalid table name"):
        frame_table(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidNameError, match="Invalid table name"):
        ParquetTable(bad, "lake/x")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "a/b", "..", "a\x00b", "a.b"])
def test_invalid_database_names(bad: str) -> None:
    with pytest.raises(InvalidNameError, match="Invalid database name"):
        Catalog({bad: Database([frame_table("t")])})
    with pytest.raises(InvalidNameError, match="Invalid database name"):
        Catalog().register(frame_table("t"), bad)


def test_register_creates_database(catalog: Catalog) -> None:
    catalog.register(frame_table("fresh"), "newdb")
    assert "newdb" in catalog.dbs
    assert catalog.table("newdb.fresh").collect().height == 3


def test_module_database_collects_top_level_tables() -> None:
    module = types.ModuleType("neuralake_test_modb")
    module.one = frame_table("one")  # type: ignore[attr-defined]
    module.two = frame_table("two")  # type: ignore[attr-defined]
    module.not_a_table = 42  # type: ignore[attr-defined]
    cat = Catalog({"m": ModuleDatabase(module)})
    assert cat.list_tables() == ["m.one", "m.two"]


def test_module_database_from_dotted_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "nl_modb_dotted.py").write_text(
        "import polars as pl\n"
        "from neuralake import FunctionTable\n"
        "numbers = FunctionTable(lambda: pl.LazyFrame({'x': [1, 2]}), name='numbers')\n"
    )
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.delitem(sys.modules, "nl_modb_dotted", raising=False)
    cat = Catalog({"m": ModuleDatabase("nl_modb_dotted")})
    assert cat.table("m.numbers").collect()["x"].to_list() == [1, 2]
    with pytest.raises(CatalogLoadError, match="Cannot import module 'nl_no_such_module'"):
        ModuleDatabase("nl_no_such_module")


def test_load_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "nl_load_cat.py").write_text(
        "import polars as pl\n"
        "from neuralake import Catalog, Database, FunctionTable\n"
        "t = FunctionTable(lambda: pl.LazyFrame({'x': [1]}), name='t')\n"
        "catalog = Catalog({'d': Database([t])}, name='loaded')\n"
        "other = 42\n"
    )
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.delitem(sys.modules, "nl_load_cat", raising=False)
    assert load_catalog("nl_load_cat:catalog").name == "loaded"
    with pytest.raises(CatalogLoadError, match="must look like"):
        load_catalog("nl_load_cat")
    with pytest.raises(CatalogLoadError, match="no attribute 'missing'"):
        load_catalog("nl_load_cat:missing")
    with pytest.raises(CatalogLoadError, match="is a int, not a neuralake Catalog"):
        load_catalog("nl_load_cat:other")
    with pytest.raises(CatalogLoadError, match="Cannot import"):
        load_catalog("nl_no_such_module_x:catalog")


def test_default_catalog_register_static_table_and_export(
    clean_default_catalog: Catalog, tmp_path: Path
) -> None:
    assert clean_default_catalog is default_catalog
    static = ParquetTable(
        "static_parts",
        str(tmp_path / "missing"),
        partitioning=[Partition("p_brand")],
        schema={"p_partkey": pl.Int64, "p_brand": pl.String},
        description="Static table.",
    )
    assert register_static_table(static, database="nl_static_db") is static
    assert default_catalog.get_table("nl_static_db.static_parts") is static
    assert "nl_static_db.static_parts" in default_catalog.list_tables()
    out = tmp_path / "out" / "default.json"
    data = export_catalog_metadata(out)
    on_disk = json.loads(out.read_text())
    assert on_disk == json.loads(json.dumps(data, default=str))
    entry = next(t for t in on_disk["tables"] if t["qualified_name"] == "nl_static_db.static_parts")
    assert entry["description"] == "Static table."
    assert [c["name"] for c in entry["columns"]] == ["p_partkey", "p_brand"]


def test_register_static_table_default_database(clean_default_catalog: Catalog) -> None:
    t = frame_table("nl_static_default")
    register_static_table(t)
    assert clean_default_catalog.get_table("default.nl_static_default") is t


def test_repr_is_short(catalog: Catalog) -> None:
    assert repr(catalog) == "Catalog(name='demo', databases=['archive', 'sales', 'tpch'])"
    assert repr(frame_table("x")) == "FunctionTable(name='x')"


def test_a_table_in_two_catalogs_is_bound_to_each_catalogs_storage() -> None:
    from neuralake import StorageConfig

    t = ParquetTable("shared", "s3://bucket/shared")
    first = Catalog({"a": Database([t])}, storage=StorageConfig(region="eu-west-1"))
    second = Catalog({"b": Database([t])}, storage=StorageConfig(region="ap-south-1"))
    assert first.get_table("a.shared") is t  # the declared object is the first catalog's
    other = second.get_table("b.shared")
    assert other is not t
    assert other is second.get_table("shared")
    assert (t.qualified_name, other.qualified_name) == ("a.shared", "b.shared")
    assert t.resolve_storage().region == "eu-west-1"
    assert other.resolve_storage().region == "ap-south-1"
    assert other.resolve_storage(StorageConfig(region="us-west-2")).region == "us-west-2"


def test_a_refused_duplicate_leaves_the_table_unbound() -> None:
    def one() -> pl.LazyFrame:
        return pl.LazyFrame({"x": [1]})

    def two() -> pl.LazyFrame:
        return pl.LazyFrame({"x": [2]})

    a, b = FunctionTable(one, name="dup"), FunctionTable(two, name="dup")
    catalog = Catalog({"db": Database([a])})
    with pytest.raises(DuplicateTableError):
        catalog.register(b, "db")
    assert b.database is None
    assert Catalog({"other": Database([b])}).get_table("other.dup") is b
