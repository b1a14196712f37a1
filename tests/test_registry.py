"""CatalogRegistry: registration rules (duplicates, reloads), names and thread safety."""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
import uuid
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuralake import (
    Catalog,
    CatalogRegistry,
    Database,
    DatabaseNotFoundError,
    DuplicateTableError,
    Filter,
    FunctionTable,
    InvalidNameError,
    ModuleDatabase,
    ParquetTable,
    default_catalog,
)
from neuralake.export.roapi import RoapiExportError, roapi_name
from neuralake.metadata import validate_name


def test_same_name_from_another_function_is_a_duplicate_naming_both_sites() -> None:
    def first() -> pl.LazyFrame:
        return pl.LazyFrame({"x": [1]})

    def second() -> pl.LazyFrame:
        return pl.LazyFrame({"x": [2]})

    cat = Catalog()
    cat.register(FunctionTable(first, name="dup"), "db")
    with pytest.raises(DuplicateTableError) as info:
        cat.register(FunctionTable(second, name="dup"), "db")
    message = str(info.value)
    assert "'db.dup'" in message
    assert f"{__name__}.{first.__qualname__} ({__file__}:" in message
    assert f"{__name__}.{second.__qualname__} ({__file__}:" in message
    # The first registration is kept.
    assert cat.table("db.dup").collect()["x"].to_list() == [1]


def test_same_name_in_another_database_is_fine() -> None:
    def first() -> pl.LazyFrame:
        return pl.LazyFrame({"x": [1]})

    def second() -> pl.LazyFrame:
        return pl.LazyFrame({"x": [2]})

    cat = Catalog()
    cat.register(FunctionTable(first, name="same"), "a")
    cat.register(FunctionTable(second, name="same"), "b")
    assert cat.list_tables() == ["a.same", "b.same"]


def test_registering_the_same_object_twice_is_a_no_op() -> None:
    t = FunctionTable(lambda: pl.LazyFrame({"x": [1]}), name="once")
    cat = Catalog()
    cat.register(t, "db")
    cat.register(t, "db")
    assert cat.list_tables() == ["db.once"]


def _write_module(path: Path, body: str) -> None:
    path.write_text(body)


MODULE_TEMPLATE = '''\
"""A catalog module written by the test."""
import polars as pl
from neuralake import ParquetTable, register_static_table, table
{padding}

@table(database="{db}", owner="{owner}")
def reloaded() -> pl.LazyFrame:
    """Version {version}."""
    return pl.LazyFrame({{"v": [{version}]}})


static = register_static_table(
    ParquetTable("static_{db}", "{uri}", description="static v{version}"), database="{db}"
)
'''


@pytest.fixture
def module_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    return tmp_path


def test_module_reload_replaces_tables(module_dir: Path, clean_default_catalog: Catalog) -> None:
    db = f"reload_{uuid.uuid4().hex[:8]}"
    name = f"nl_reload_{db}"
    path = module_dir / f"{name}.py"
    values = {"db": db, "uri": str(module_dir / "lake"), "owner": "a"}
    _write_module(path, MODULE_TEMPLATE.format(padding="", version=1, **values))
    try:
        module = importlib.import_module(name)
        first_static = module.static
        assert default_catalog.table(f"{db}.reloaded").collect()["v"].to_list() == [1]

        # New contents, different line numbers: same definition sites (module + qualname).
        _write_module(
            path,
            MODULE_TEMPLATE.format(padding="\n\n# moved\n", version=2, **{**values, "owner": "b"}),
        )
        importlib.reload(module)

        assert default_catalog.list_tables(db) == [f"{db}.reloaded", f"{db}.static_{db}"]
        assert default_catalog.table(f"{db}.reloaded").collect()["v"].to_list() == [2]
        meta = default_catalog.describe_table(f"{db}.reloaded")
        assert (meta.description, meta.owner) == ("Version 2.", "b")
        assert default_catalog.get_table(f"{db}.static_{db}") is module.static
        assert module.static is not first_static
        assert default_catalog.describe_table(f"{db}.static_{db}").description == "static v2"
    finally:
        sys.modules.pop(name, None)


def test_module_database_reload(module_dir: Path, clean_default_catalog: Catalog) -> None:
    db = f"modreload_{uuid.uuid4().hex[:8]}"
    name = f"nl_modreload_{db}"
    path = module_dir / f"{name}.py"
    values = {"db": db, "uri": str(module_dir / "lake"), "owner": "a"}
    _write_module(path, MODULE_TEMPLATE.format(padding="", version=1, **values))
    try:
        module = importlib.import_module(name)
        cat = Catalog({"m": ModuleDatabase(module)})
        _write_module(path, MODULE_TEMPLATE.format(padding="#\n", version=3, **values))
        importlib.reload(module)
        for t in ModuleDatabase(module).tables.values():
            cat.register(t, "m")
        assert cat.list_tables() == ["m.reloaded", f"m.static_{db}"]
        assert cat.table("m.reloaded").collect()["v"].to_list() == [3]
    finally:
        sys.modules.pop(name, None)


def test_same_table_name_from_two_modules_is_a_duplicate(
    module_dir: Path, clean_default_catalog: Catalog
) -> None:
    db = f"dupmod_{uuid.uuid4().hex[:8]}"
    names = [f"nl_dupmod_a_{db}", f"nl_dupmod_b_{db}"]
    values = {"db": db, "uri": str(module_dir / "lake"), "owner": "a", "padding": ""}
    for n in names:
        _write_module(module_dir / f"{n}.py", MODULE_TEMPLATE.format(version=1, **values))
    try:
        importlib.import_module(names[0])
        with pytest.raises(
            DuplicateTableError, match=rf"{names[0]}\.reloaded.*{names[1]}\.reloaded.*database="
        ):
            importlib.import_module(names[1])
    finally:
        for n in names:
            sys.modules.pop(n, None)


BARE_MODULE = """\
import polars as pl
from neuralake import register_static_table, table, FunctionTable


@table
def fx_rates() -> pl.LazyFrame:
    return pl.LazyFrame({{"rate": [{rate}]}})


spot = register_static_table(FunctionTable(lambda: pl.LazyFrame({{"r": [{rate}]}}), name="spot"))
"""


def test_at_table_in_two_modules_does_not_collide(
    module_dir: Path, clean_default_catalog: Catalog
) -> None:
    from neuralake import AmbiguousTableError

    tag = uuid.uuid4().hex[:8]
    (module_dir / f"nl_fx_{tag}").mkdir()
    (module_dir / f"nl_fx_{tag}" / "__init__.py").write_text("")
    names = [f"nl_fx_{tag}.sales", f"nl_fx_{tag}.treasury"]
    for rate, n in enumerate(names, 1):
        _write_module(module_dir / f"{n.replace('.', '/')}.py", BARE_MODULE.format(rate=rate))
    try:
        for n in names:
            importlib.import_module(n)
        dbs = [n.replace(".", "_") for n in names]
        for rate, db in enumerate(dbs, 1):
            assert default_catalog.table(f"{db}.fx_rates").collect()["rate"].to_list() == [rate]
            assert default_catalog.table(f"{db}.spot").collect()["r"].to_list() == [rate]
        with pytest.raises(AmbiguousTableError, match=rf"{dbs[0]}\.fx_rates, {dbs[1]}\.fx_rates"):
            default_catalog.table("fx_rates")
        with pytest.raises(AmbiguousTableError):
            default_catalog.table("default.fx_rates")  # the old spelling cannot choose either
    finally:
        for n in names:
            sys.modules.pop(n, None)


def test_module_database_names_are_valid() -> None:
    from neuralake.catalog import module_database

    assert module_database("sales.fx") == "sales_fx"
    assert module_database("__main__") == "default"
    assert module_database("1st-run.mod") == "_1st_run_mod"
    for module in ("a.b.c", "x-y", "9", "__main__", "pkg.__init__"):
        assert validate_name(module_database(module), "database")


def test_registry_snapshots_and_unregister() -> None:
    reg = CatalogRegistry()
    t = ParquetTable("t", "lake/t")
    reg.register(t, "db")
    snapshot = reg.tables("db")
    snapshot["other"] = t
    assert list(reg.tables("db")) == ["t"]
    assert reg.items() == [("db", t)]
    reg.unregister("db", "t")
    reg.unregister("db", "not_there")
    assert reg.tables("db") == {}
    assert reg.databases() == ["db"]
    with pytest.raises(DatabaseNotFoundError, match=r"'dbb'.*Did you mean 'db'.*Databases: db"):
        reg.tables("dbb")


THREADS = 8
PER_THREAD = 25


def test_concurrent_registration_and_reads_lose_nothing() -> None:
    cat = Catalog({"seed": Database([FunctionTable(lambda: pl.LazyFrame({"i": [0]}), name="s")])})
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    reads: list[tuple[str, list[int]]] = []
    reads_lock = threading.Lock()

    def make(thread: int, j: int) -> FunctionTable:
        value = thread * 1000 + j + 1
        return FunctionTable(lambda: pl.LazyFrame({"i": [value, -value]}), name=f"t{thread}_{j}")

    def work(thread: int) -> None:
        try:
            barrier.wait()
            for j in range(PER_THREAD):
                db = f"db{j % 3}"
                cat.register(make(thread, j), db)
                got = cat.table(f"{db}.t{thread}_{j}", filters=[Filter("i", ">=", 0)]).collect()
                # Read a table another thread may be registering right now.
                other = (thread + 1) % THREADS
                with contextlib.suppress(LookupError):
                    cat.table(f"db{j % 3}.t{other}_{j}").collect()
                cat.list_tables()
                cat.metrics()
                with reads_lock:
                    reads.append((f"{db}.t{thread}_{j}", got["i"].to_list()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    assert not any(th.is_alive() for th in threads)

    names = cat.list_tables()
    assert len(names) == THREADS * PER_THREAD + 1
    assert len(reads) == THREADS * PER_THREAD
    for qualified, values in reads:
        thread, j = (int(x) for x in qualified.split(".t")[1].split("_"))
        assert values == [thread * 1000 + j + 1]
    # Contents are intact after the fact too.
    for thread in range(THREADS):
        for j in range(PER_THREAD):
            got = cat.table(f"db{j % 3}.t{thread}_{j}").collect()["i"].to_list()
            assert got == [thread * 1000 + j + 1, -(thread * 1000 + j + 1)]
    counts = cat.metrics()["reads"]
    assert all(
        counts[f"db{j % 3}.t{t}_{j}"]["count"] >= 2
        for t in range(THREADS)
        for j in range(PER_THREAD)
    )


# -- names are matched in full -----------------------------------------------------------------

BAD_NAMES = ["evil\n", "a\nb", "a/b", "../x", "x\x00", "\nx", "x\r", "x\n\n", "é"]
GOOD_NAMES = ["t", "_t", "T_2", "orders_2024", "_"]


def _numbers(name: str) -> FunctionTable:
    return FunctionTable(lambda: pl.LazyFrame({"i": [1]}), name=name)


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_names_with_newlines_separators_or_nul_are_refused(bad: str) -> None:
    with pytest.raises(InvalidNameError, match="Invalid table name"):
        validate_name(bad)
    with pytest.raises(InvalidNameError, match="Invalid table name"):
        _numbers(bad)
    with pytest.raises(InvalidNameError, match="Invalid table name"):
        ParquetTable(bad, "lake/x")
    with pytest.raises(InvalidNameError, match="Invalid database name"):
        Catalog({bad: Database([_numbers("t")])})
    with pytest.raises(InvalidNameError, match="Invalid database name"):
        Catalog().register(_numbers("t"), bad)
    with pytest.raises(InvalidNameError, match="Invalid database name"):
        CatalogRegistry().add_database(bad)


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_registry_checks_a_name_changed_after_construction(bad: str) -> None:
    table = _numbers("ok")
    table.name = bad
    cat = Catalog()
    with pytest.raises(InvalidNameError, match="Invalid table name"):
        cat.register(table, "db")
    assert cat.list_tables() == []


@pytest.mark.parametrize("good", GOOD_NAMES)
def test_identifier_names_are_accepted(good: str) -> None:
    assert validate_name(good) == good
    cat = Catalog({good: Database([_numbers(good)])})
    assert cat.list_tables() == [f"{good}.{good}"]
    assert cat.table(f"{good}.{good}").collect()["i"].to_list() == [1]


@settings(max_examples=200, deadline=None, database=None)
@given(name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
       tail=st.sampled_from(["\n", "\r\n", "\x00", "/", " ", "\t", "\n\n"]))  # fmt: skip
def test_a_valid_name_with_any_trailing_junk_is_refused(name: str, tail: str) -> None:
    assert validate_name(name) == name
    for bad in (name + tail, tail + name):
        with pytest.raises(InvalidNameError):
            validate_name(bad)


@pytest.mark.parametrize("bad", ["evil\n", "a\nb", "a/b", "x\x00", "db_t\n"])
def test_roapi_names_are_matched_in_full(bad: str) -> None:
    table = FunctionTable(lambda: pl.LazyFrame({"i": [1]}), name="t", extra={"roapi_name": bad})
    with pytest.raises(RoapiExportError, match="ROAPI name"):
        roapi_name("db", table)
    assert roapi_name("db", _numbers("t")) == "db_t"
