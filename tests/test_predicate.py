"""The bound predicate tree and its renderers: coverage of every operator, binding, SQL
predicate strings, and what each renderer says for the same predicate."""

from __future__ import annotations

import datetime as dt
import decimal
import inspect
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from neuralake import Catalog, Database, Filter, FunctionTable, InvalidFilterError, ParquetTable
from neuralake import predicate as pr
from neuralake.api.snippets import curl_snippet, rest_params, sql_for
from neuralake.export.site.snippets import sql_query
from neuralake.filters import OPS
from neuralake.predicate import (
    AlwaysTrue,
    And,
    Comparison,
    EqualTo,
    IsNull,
    Leaf,
    NotRenderableError,
    Or,
    PinnedPartitions,
    PolarsExpr,
    Predicate,
    PredicateVisitor,
    SetLeaf,
    ToDeltaPartitionFilters,
    ToPolars,
    ToPython,
    ToRest,
    ToSql,
    bind,
)
from neuralake.tables.parquet import Partition

DATA = pl.DataFrame(
    {
        "id": [1, 2, 3, 4, 5],
        "n": [10, 20, 30, None, 50],
        "s": ["abc", "a.c", "x*y", None, "O'Neil"],
        "f": [1.5, None, -2.0, 0.0, 3.25],
        "tags": [["a", "b"], [], ["b"], None, ["c", "a"]],
        "d": [dt.date(2024, 1, d) for d in (1, 2, 3, 4, 5)],
        "b": [True, False, None, True, False],
    }
)
SCHEMA = DATA.schema


def ids(pred: Predicate) -> list[int]:
    return sorted(DATA.filter(pred.accept(ToPolars()))["id"].to_list())


def sql_ids(condition: str) -> list[int]:
    catalog = Catalog({"db": Database([FunctionTable(lambda: DATA.lazy(), name="t")])})
    return sorted(catalog.sql(f"SELECT id FROM db.t WHERE {condition}").collect()["id"].to_list())


# -- every operator has a node, every renderer every node --------------------------------------


def concrete(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += concrete(sub)
        if not inspect.isabstract(sub) and not sub.__name__.startswith("_"):
            found.append(sub)
    return found


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def sample(cls: type[Predicate]) -> Predicate:
    if issubclass(cls, Comparison):
        return cls("n", pl.Int64(), value=1)
    if issubclass(cls, SetLeaf):
        return cls("n", pl.Int64(), values=(1,))
    if issubclass(cls, Leaf):
        return cls("n", pl.Int64())
    if issubclass(cls, And | Or):
        return cls((EqualTo("n", pl.Int64(), value=1), IsNull("s", pl.String())))
    if cls is PolarsExpr:
        return PolarsExpr(pl.col("n") > 1, frozenset({"n"}))
    return cls()


NODES = sorted(concrete(Predicate), key=lambda c: c.__name__)


def test_every_filter_operator_has_one_leaf_class() -> None:
    leaves = [c for c in NODES if issubclass(c, Leaf)]
    assert sorted(c.op for c in leaves) == sorted(OPS)
    assert {c.op: c for c in leaves} == pr.leaves.LEAVES


def test_every_renderer_has_a_method_for_every_node_class() -> None:
    methods = {f"visit_{snake(c.__name__)}" for c in NODES}
    assert set(PredicateVisitor.__abstractmethods__) == methods
    visitors = concrete(PredicateVisitor)
    names = {v.__name__ for v in visitors}
    assert {"ToPolars", "ToSql", "ToPython", "ToRest"} <= names
    assert {"ToDeltaPartitionFilters", "PinnedPartitions"} <= names
    for visitor in visitors:
        missing = {m for m in methods if getattr(visitor, m, None) is None}
        assert not missing, f"{visitor.__name__} lacks {sorted(missing)}"
        assert not inspect.isabstract(visitor), visitor.__name__


def test_accept_dispatches_to_the_method_named_after_the_node() -> None:
    methods = sorted(PredicateVisitor.__abstractmethods__)
    recorder = type(
        "Recorder",
        (PredicateVisitor,),
        {m: (lambda self, node, m=m: m) for m in methods},
    )()
    for cls in NODES:
        assert sample(cls).accept(recorder) == f"visit_{snake(cls.__name__)}"


def test_a_renderer_lacking_an_operator_cannot_be_instantiated() -> None:
    methods = sorted(PredicateVisitor.__abstractmethods__)
    partial = type(
        "Partial",
        (PredicateVisitor,),
        {m: (lambda self, node: None) for m in methods if m != "visit_includes_all"},
    )
    with pytest.raises(TypeError, match="visit_includes_all"):
        partial()


# -- bind ----------------------------------------------------------------------------------------


def test_bind_shapes() -> None:
    assert isinstance(bind(None, SCHEMA), AlwaysTrue)
    assert isinstance(bind([], SCHEMA), AlwaysTrue)
    assert isinstance(bind([[Filter("n", "=", 1)], []], SCHEMA), AlwaysTrue)
    assert bind(Filter("n", "=", 1), SCHEMA) == EqualTo("n", pl.Int64(), value=1)
    flat = bind([Filter("n", ">", 1), Filter("s", "is null")], SCHEMA)
    assert isinstance(flat, And)
    assert str(flat) == "n > 1 AND s is null"
    dnf = bind([[Filter("n", ">", 1), Filter("n", "<", 9)], [Filter("s", "is null")]], SCHEMA)
    assert isinstance(dnf, Or)
    assert str(dnf) == "(n > 1 AND n < 9) OR s is null"
    assert isinstance(bind(pl.col("n") > 1, SCHEMA), PolarsExpr)


def test_a_bound_predicate_is_used_as_it_is_but_its_columns_are_checked() -> None:
    pred = bind([Filter("n", ">", 1)], SCHEMA)
    assert bind(pred, SCHEMA) is pred
    with pytest.raises(InvalidFilterError, match=r"Unknown filter column 'n' on table 'db.x'"):
        bind(pred, pl.Schema({"m": pl.Int64}), table="db.x")


def test_bind_errors_name_the_table_and_the_fix() -> None:
    with pytest.raises(InvalidFilterError, match=r"'nn' on table 'db.t'.*Did you mean 'n'"):
        bind([Filter("nn", "=", 1)], SCHEMA, table="db.t")
    with pytest.raises(InvalidFilterError, match=r"on table 'db.t'.*Pass a value of the column"):
        bind([Filter("n", "=", "1")], SCHEMA, table="db.t")


def test_bind_without_schema_takes_the_dtype_the_value_implies() -> None:
    pred = bind([Filter("zz", "in", [1, 2]), Filter("d", "=", dt.date(2024, 1, 1))], None)
    assert isinstance(pred, And)
    assert [c.dtype for c in pred.children] == [pl.Int64(), pl.Date()]  # type: ignore[attr-defined]
    assert pr.filter_columns("a < 3 AND b IS NULL") == {"a", "b"}


def test_values_an_integer_column_cannot_hold_match_nothing() -> None:
    assert ids(bind([Filter("n", "in", [20.5])], SCHEMA)) == []
    assert ids(bind([Filter("n", "in", [20.0, 30])], SCHEMA)) == [2, 3]
    assert ids(bind([Filter("n", "not in", [20.5])], SCHEMA)) == [1, 2, 3, 5]  # null stays out
    pred = bind([Filter("n", "not in", [20.5])], SCHEMA)
    assert pred.accept(ToSql()) == "n IS NOT NULL"
    assert sql_ids(pred.accept(ToSql())) == [1, 2, 3, 5]


# -- SQL predicate strings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "bound"),
    [
        ("n < 30 AND s = 'abc'", "n < 30 AND s = 'abc'"),
        ("NOT (n = 10 OR s IS NULL)", "n != 10 AND s is not null"),
        ("n NOT IN (10, 20)", "n not in [10, 20]"),
        ("NOT n BETWEEN 15 AND 40", "n < 15 OR n > 40"),
        ("n BETWEEN 15 AND 40", "n >= 15 AND n <= 40"),
        ("35 > n", "n < 35"),
        ("-2.0 >= f", "f <= -2.0"),
        ("d >= '2024-01-03'", "d >= datetime.date(2024, 1, 3)"),
        ("d = DATE '2024-01-02' OR b", None),  # a bare boolean column: only Polars
        ("b = TRUE AND s <> 'x'", "b = True AND s != 'x'"),
        ('"n" IN (10, 50)', "n in [10, 50]"),
        ("n = 10 OR TRUE", "TRUE"),
        ("n = 10 AND FALSE", "FALSE"),
        ("year(d) = 2024 AND n > 10", None),
        ("s LIKE 'a%'", None),
    ],
)
def test_sql_predicates_become_tree_nodes_or_a_polars_expression(
    text: str, bound: str | None
) -> None:
    pred = bind(text, SCHEMA, table="db.t")
    if bound is None:
        assert isinstance(pred, PolarsExpr)
        assert pred.text == text
        with pytest.raises(NotRenderableError):
            pred.accept(ToSql())
        assert pred.accept(ToRest()) is None
        assert pred.accept(ToDeltaPartitionFilters(["n"])) is None
        assert pred.accept(PinnedPartitions(["n"])) is None
    else:
        assert str(pred) == bound
    assert ids(pred) == sql_ids(text)  # Polars' own SQL engine is the oracle


@pytest.mark.parametrize(
    "text",
    [
        "n IN (SELECT 1)",
        "EXISTS (SELECT 1)",
        "n = (SELECT max(n) FROM t)",
        "read_parquet('x.parquet') IS NULL",
        "read_json('http://example.com/x') IS NULL",
        "n = getenv('HOME')",
        "n = $1",
        "n = 1; SELECT 1",
        "",
    ],
)
def test_sql_predicates_that_are_not_plain_predicates_are_refused(text: str) -> None:
    with pytest.raises(InvalidFilterError, match=r"Cannot parse SQL predicate.*on table 'db\.t'"):
        bind(text, SCHEMA, table="db.t")


def test_sql_predicate_reading_a_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("TOP-SECRET-CONTENT\n")
    with pytest.raises(InvalidFilterError, match="read_csv") as info:
        bind(f"read_csv('{secret}') IS NOT NULL", SCHEMA, table="db.t")
    assert "TOP-SECRET" not in str(info.value)


def test_sql_predicate_values_are_validated_like_filters() -> None:
    with pytest.raises(InvalidFilterError, match=r"'n' = '1'.*str value does not fit column 'n'"):
        bind("n = '1'", SCHEMA, table="db.t")
    with pytest.raises(InvalidFilterError, match=r"Unknown filter column 'zz'.*Valid columns"):
        bind("year(zz) = 2024", SCHEMA, table="db.t")


# -- one predicate, the same answer from every renderer ------------------------------------------


def test_includes_any_empty_says_no_rows_everywhere() -> None:
    pred = bind([Filter("tags", "includes any", [])], SCHEMA, table="db.t")
    assert ids(pred) == []
    assert pred.accept(ToSql()) == "FALSE"
    assert sql_ids(pred.accept(ToSql())) == []
    assert pred.accept(ToRest()) is None  # REST cannot say "nothing": the SQL form is used
    assert sql_for("db", "t", pred, 10) == "SELECT * FROM db.t WHERE FALSE LIMIT 10"
    curl = curl_snippet("http://h", "db", "t", [Filter("tags", "includes any", [])])
    assert "/api/sql" in curl
    assert "WHERE FALSE" in curl
    assert "WHERE FALSE" in sql_query("db", "t", [Filter("tags", "includes any", [])], None)
    assert pred.accept(ToPython()) == '[Filter("tags", "includes any", [])]'
    assert pred.accept(ToDeltaPartitionFilters(["tags"])) is None


@pytest.mark.parametrize(
    ("flt", "rest"),
    [
        (Filter("n", "=", 20), [("filter[n]", "20")]),
        (Filter("n", "<", 20), [("filter[n]lt", "20")]),
        (Filter("n", "<=", 20), [("filter[n]lte", "20")]),
        (Filter("n", ">", 20), [("filter[n]gt", "20")]),
        (Filter("n", ">=", 20), [("filter[n]gte", "20")]),
        (Filter("n", "!=", 20), [("filter[n]ne", "20")]),
        (Filter("n", ">", -5), [("filter[n]gt", "-5")]),
        (Filter("s", "=", "O'Neil"), [("filter[s]", "O'Neil")]),  # bare: typed by the schema
        (Filter("f", ">", 1.5), [("filter[f]gt", "1.5")]),
        (Filter("f", "=", 0), [("filter[f]", "0")]),
        (Filter("d", ">=", dt.date(2024, 1, 4)), [("filter[d]gte", "2024-01-04")]),
        (Filter("b", "=", True), [("filter[b]", "true")]),
        (Filter("n", "=", 20.5), None),  # no integer is 20.5, but "20.5" is no integer either
        (Filter("n", "in", [10, 50]), None),
        (Filter("n", "in", []), None),
        (Filter("n", "not in", [10]), None),
        (Filter("s", "contains", "a%_'"), None),
        (Filter("tags", "includes", "a"), None),
        (Filter("tags", "includes any", ["a", "b"]), None),
        (Filter("tags", "includes all", []), None),
        (Filter("n", "is null"), None),
        (Filter("n", "is not null"), None),
    ],
    ids=repr,
)  # fmt: skip
def test_rest_and_sql_forms_of_each_operator(
    flt: Filter, rest: list[tuple[str, str]] | None
) -> None:
    """REST parameters parse back (typed by the schema) to the same rows; SQL is the catalog's."""
    from neuralake.predicate import parse_rest

    pred = bind([flt], SCHEMA)
    assert pred.accept(ToRest()) == rest
    assert rest_params([flt], SCHEMA) == rest
    if rest is not None:
        assert ids(bind(parse_rest(rest, SCHEMA, "db.t"), SCHEMA)) == ids(pred)
    condition = pred.accept(ToSql())
    assert sql_for("db", "t", [flt], 5, SCHEMA) == f"SELECT * FROM db.t WHERE {condition} LIMIT 5"
    assert sql_ids(condition) == ids(pred)


def test_rest_needs_a_conjunction_and_bracket_free_names() -> None:
    both = [Filter("n", ">", 1), Filter("s", "=", "a")]
    assert rest_params(both) == [("filter[n]gt", "1"), ("filter[s]", "a")]
    assert rest_params([[Filter("n", ">", 1)], [Filter("s", "=", "a")]]) is None
    assert rest_params([Filter("my col", "=", 1)]) == [("filter[my col]", "1")]
    assert rest_params([Filter("a]b", "=", 1)]) is None
    assert rest_params(None) == []


def test_parse_rest_refuses_what_it_cannot_type() -> None:
    from neuralake.predicate import parse_rest

    for params, message in (
        ([("filter[n]", "abc")], "an integer"),
        ([("filter[d]gt", "2024-13-01")], "ISO date"),
        ([("filter[b]", "yes")], "true or false"),
        ([("filter[n]like", "1")], "Unknown filter operator"),
        ([("filter[nope]", "1")], "Unknown filter column"),
        ([("filter[n", "1")], "Bad parameter"),
    ):
        with pytest.raises(InvalidFilterError, match=message):
            parse_rest(params, SCHEMA, "db.t")
    assert parse_rest([("limit", "5")], SCHEMA, "db.t") == []  # not a filter: the caller's


def test_sql_identifiers_and_literals_are_safe_in_the_catalogs_engine() -> None:
    frame = pl.DataFrame({"order": [1, 2, 3], 'we"ird col': ["a%b", "a_b", "a\\.b"]})
    catalog = Catalog({"db": Database([FunctionTable(lambda: frame.lazy(), name="t")])})
    for needle, want in [("%", [1]), ("_", [2]), ("\\.", [3]), ("a", [1, 2, 3]), (".", [3])]:
        pred = bind(
            [Filter('we"ird col', "contains", needle), Filter("order", ">", 0)], frame.schema
        )
        cond = pred.accept(ToSql())
        assert cond.startswith('REGEXP_LIKE("we""ird col", ')
        assert '"order" > 0' in cond
        got = catalog.sql(f"SELECT * FROM db.t WHERE {cond}").collect()["order"].to_list()
        assert got == want == frame.filter(pred.accept(ToPolars()))["order"].to_list()


@pytest.mark.parametrize(
    "filters",
    [
        [Filter("d", ">=", dt.date(2024, 1, 2)), Filter("s", "in", ['O\'Neil "x"', "a\\b"])],
        [[Filter("n", ">", 1), Filter("tags", "includes all", ["a"])], [Filter("f", "is null")]],
        [Filter("f", "<", float("inf")), Filter("n", "not in", [])],
        [Filter("n", "=", decimal.Decimal("10"))],
    ],
    ids=repr,
)
def test_python_snippet_evaluates_back_to_the_same_predicate(filters: Any) -> None:
    pred = bind(filters, SCHEMA)
    code = pred.accept(ToPython())
    again = eval(code, {"Filter": Filter, "datetime": dt, "decimal": decimal})
    assert bind(again, SCHEMA) == pred


def test_python_snippet_layout_and_special_cases() -> None:
    pred = bind([Filter("n", ">", 1), Filter("s", "is null")], SCHEMA)
    assert pred.accept(ToPython(indent="    ")) == (
        '[\n        Filter("n", ">", 1),\n        Filter("s", "is null"),\n    ]'
    )
    assert bind(None, SCHEMA).accept(ToPython()) == "None"
    assert bind("FALSE", SCHEMA).accept(ToPython()) == '"FALSE"'
    assert bind("year(d) = 2024", SCHEMA).accept(ToPython()) == '"year(d) = 2024"'
    nested = bind("n > 1 AND (s = 'a' OR s IS NULL)", SCHEMA)  # distributed to OR of ANDs
    assert nested.accept(ToPython()) == (
        '[[Filter("n", ">", 1), Filter("s", "=", "a")], [Filter("n", ">", 1), Filter("s", "is null")]]'
    )
    with pytest.raises(NotRenderableError):
        bind(pl.col("n") > 1, SCHEMA).accept(ToPython())


# -- delta-rs partition filters and Parquet partition pins -----------------------------------------

PARTS = pl.Schema({"p": pl.String, "n": pl.Int64, "f": pl.Float64, "x": pl.String})


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([Filter("p", "=", "a"), Filter("n", "in", [1, 2.0])], [("p", "=", "a"), ("n", "in", [1, 2])]),
        ([Filter("p", "is null"), Filter("n", "is not null")], [("p", "=", ""), ("n", "!=", "")]),
        ([Filter("n", "=", 1.5)], [("n", "in", [])]),
        ([Filter("n", "!=", 1.5)], [("n", "!=", "")]),
        ([Filter("n", "not in", [])], [("n", "not in", [])]),
        ([Filter("n", "not in", [1.5])], [("n", "!=", "")]),
        (None, []),
        ([Filter("x", "=", "a")], None),  # not a partition column
        ([Filter("f", "=", 1.0)], None),  # float partitions: -0.0 and 0.0 differ there
        ([Filter("p", "=", "")], None),  # delta-rs reads '' as null
        ([Filter("p", "contains", "a")], None),
        ([[Filter("p", "=", "a")], [Filter("n", "=", 1)]], None),  # OR: not a conjunction
        ([Filter("n", "<", 1.5)], None),
    ],
    ids=repr,
)  # fmt: skip
def test_delta_partition_filters(filters: Any, expected: Any) -> None:
    assert bind(filters, PARTS).accept(ToDeltaPartitionFilters(["p", "n", "f"])) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([[Filter("p", "=", "a"), Filter("n", "in", [1, 2])], [Filter("p", "in", ["b", "a"])]],
         ((("p", ("a",)), ("n", (1, 2))), (("p", ("b", "a")),))),
        ([Filter("n", "=", 1)], None),  # the leading partition is not pinned
        ([[Filter("p", "=", "a")], [Filter("x", "=", "b")]], None),  # one branch pins nothing
        ([Filter("p", "=", "a"), Filter("p", "=", "b")], ((("p", ()),),)),  # nothing can match
        ([Filter("p", "=", "a"), Filter("n", "=", 2.0)], ((("p", ("a",)), ("n", (2,))),)),
        ([Filter("p", "=", "a"), Filter("n", "=", 1.5)], ((("p", ("a",)), ("n", ())),)),
        ("p = 'a' AND (n = 1 OR n = 2)", ((("p", ("a",)), ("n", (1,))), (("p", ("a",)), ("n", (2,))))),
        ("FALSE", ()),
        (None, None),
    ],
    ids=repr,
)  # fmt: skip
def test_pinned_partitions(filters: Any, expected: Any) -> None:
    assert bind(filters, PARTS).accept(PinnedPartitions(["p", "n"])) == expected


def hive(root: Path) -> ParquetTable:
    """A hive dataset whose p=b folder holds a broken file: reading it fails, so a read that
    succeeds proves that folder was pruned."""
    (root / "p=a").mkdir(parents=True)
    pl.DataFrame({"id": [1, 2], "v": [10, 20]}).write_parquet(root / "p=a" / "0.parquet")
    (root / "p=b").mkdir()
    (root / "p=b" / "0.parquet").write_bytes(b"not parquet")
    return ParquetTable(
        "t",
        str(root),
        partitioning=[Partition("p", pl.String)],
        schema={"id": pl.Int64, "v": pl.Int64},
    )


@pytest.mark.parametrize(
    "filters",
    [[Filter("p", "=", "a")], "p = 'a' AND v > 10", "p IN ('a') OR p = 'c'"],
    ids=repr,
)
def test_parquet_prunes_with_every_filter_form(tmp_path: Path, filters: Any) -> None:
    catalog = Catalog({"db": Database([hive(tmp_path / "t")])})
    rows = catalog.table("db.t", filters=filters).collect()
    assert rows["p"].unique().to_list() == ["a"]


def test_a_parquet_read_binds_its_filters_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = Catalog({"db": Database([hive(tmp_path / "t")])})
    seen: list[object] = []
    real = pr.bind

    def spy(filters: Any, schema: Any, *, table: str = "") -> Predicate:
        seen.append(filters)
        return real(filters, schema, table=table)

    monkeypatch.setattr(pr, "bind", spy)
    rows = catalog.table("db.t", filters="p = 'a' AND v > 10").collect()
    assert rows["id"].to_list() == [2]
    fresh = [f for f in seen if not isinstance(f, Predicate)]
    assert fresh == ["p = 'a' AND v > 10"]  # later calls received the bound predicate


def test_invalid_filters_fail_before_any_io(tmp_path: Path) -> None:
    calls: list[int] = []

    def numbers() -> pl.LazyFrame:
        calls.append(1)
        return pl.LazyFrame({"x": [1]})

    missing = ParquetTable("m", str(tmp_path / "nowhere"), schema={"x": pl.Int64})
    declared = FunctionTable(numbers, name="f", schema={"x": pl.Int64})
    catalog = Catalog({"db": Database([missing, declared])})
    with pytest.raises(InvalidFilterError, match=r"'db\.m'"):
        catalog.table("db.m", filters=[Filter("y", "=", 1)])
    with pytest.raises(InvalidFilterError, match=r"'db\.f'"):
        catalog.table("db.f", filters="y = 1")
    assert calls == []


def test_rest_repeats_a_parameter_for_two_terms() -> None:
    from neuralake.predicate import ToRest, bind, parse_rest

    schema = pl.Schema({"k": pl.Int64})
    both = bind([Filter("k", "=", 0), Filter("k", "=", 1)], schema)
    params = both.accept(ToRest())
    assert params == [("filter[k]", "0"), ("filter[k]", "1")]  # an AND of both: no row
    assert parse_rest(params, schema, "t") == [Filter("k", "=", 0), Filter("k", "=", 1)]
    assert bind([Filter("k", ">", 0), Filter("k", "<", 5)], schema).accept(ToRest()) == [
        ("filter[k]gt", "0"),
        ("filter[k]lt", "5"),
    ]


# -- ISO strings for date and datetime columns ----------------------------------------------------

STAMPED = DATA.with_columns(
    ts=pl.Series([dt.datetime(2024, 1, d, 12) for d in (1, 2, 3, 4, 5)]),
)


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        (Filter("d", ">", "2024-01-03"), Filter("d", ">", dt.date(2024, 1, 3))),
        (Filter("d", "in", ["2024-01-01", "2024-01-05"]),
         Filter("d", "in", [dt.date(2024, 1, 1), dt.date(2024, 1, 5)])),
        (Filter("ts", "<=", "2024-01-02T12:00:00"), Filter("ts", "<=", dt.datetime(2024, 1, 2, 12))),
        (Filter("ts", ">=", "2024-01-04"), Filter("ts", ">=", dt.datetime(2024, 1, 4))),
    ],
    ids=repr,
)  # fmt: skip
def test_iso_strings_bind_as_dates_for_every_renderer(text: Filter, typed: Filter) -> None:
    from neuralake.predicate import parse_rest

    schema = STAMPED.schema
    pred = bind([text], schema)
    assert pred == bind([typed], schema)  # parsed once, at bind time
    rows = sorted(STAMPED.filter(pred.accept(ToPolars()))["id"].to_list())
    assert rows
    assert rows != [1, 2, 3, 4, 5]
    catalog = Catalog({"db": Database([FunctionTable(lambda: STAMPED.lazy(), name="t")])})
    condition = pred.accept(ToSql())
    sql = catalog.sql(f"SELECT id FROM db.t WHERE {condition}").collect()["id"].to_list()
    assert sorted(sql) == rows
    rest = pred.accept(ToRest())
    assert rest == bind([typed], schema).accept(ToRest())
    if text.op != "in":  # REST has no form for 'in'
        assert rest is not None
        assert bind(parse_rest(rest, schema, "db.t"), schema) == pred
    code = pred.accept(ToPython())
    assert "datetime." in code
    assert bind(eval(code, {"Filter": Filter, "datetime": dt}), schema) == pred


@pytest.mark.parametrize(
    ("flt", "message"),
    [
        (Filter("d", ">", "01/02/2024"), r"'d'.*not an ISO date\. Pass datetime\.date\(1998, 7, 1\)"),
        (Filter("d", "=", "2024-13-01"), r"not an ISO date.*or '1998-07-01'"),
        (Filter("d", "=", "2024-01-01T10:00"), "not an ISO date"),
        (Filter("ts", "in", ["2024-01-01", "soon"]), r"'soon'.*not an ISO datetime.*datetime\.datetime"),
    ],
    ids=repr,
)  # fmt: skip
def test_non_iso_strings_for_date_columns_say_what_to_pass(flt: Filter, message: str) -> None:
    with pytest.raises(InvalidFilterError, match=message):
        bind([flt], STAMPED.schema, table="db.t")
