"""Filters: every operator, DNF shapes, SQL strings and expressions, and validation errors."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from neuralake import Catalog, Database, Filter, FunctionTable, InvalidFilterError
from neuralake.filters import OPS, describe, to_dnf
from neuralake.predicate import pinned_values, to_expr

DATA = pl.DataFrame(
    {
        "id": [1, 2, 3, 4, 5],
        "n": [10, 20, 30, None, 50],
        "s": ["abc", "a.c", "x*y", None, "Brand#13"],
        "f": [1.5, None, -2.0, 0.0, 3.25],
        "tags": [["a", "b"], [], ["b"], None, ["c", "a"]],
        "d": [dt.date(2024, 1, d) for d in (1, 2, 3, 4, 5)],
        "b": [True, False, None, True, False],
    }
)
SCHEMA = DATA.schema


@pytest.fixture
def catalog() -> Catalog:
    return Catalog({"db": Database([FunctionTable(lambda: DATA.lazy(), name="t")])})


def ids(catalog: Catalog, filters: object) -> list[int]:
    return sorted(catalog.table("db.t", filters=filters).collect()["id"].to_list())


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (Filter("n", "=", 20), [2]),
        (Filter("n", "!=", 20), [1, 3, 5]),  # null is neither equal nor unequal
        (Filter("n", "<", 30), [1, 2]),
        (Filter("n", "<=", 30), [1, 2, 3]),
        (Filter("n", ">", 30), [5]),
        (Filter("n", ">=", 30), [3, 5]),
        (Filter("n", "in", [10, 50, 99]), [1, 5]),
        (Filter("n", "not in", [10, 50]), [2, 3]),
        (Filter("n", "in", {50, 10}), [1, 5]),
        (Filter("s", "contains", "c"), [1, 2]),
        (Filter("s", "contains", "#1"), [5]),
        (Filter("tags", "includes", "a"), [1, 5]),
        (Filter("tags", "includes any", ["c", "b"]), [1, 3, 5]),
        (Filter("tags", "includes all", ["a", "b"]), [1]),
        (Filter("n", "is null"), [4]),
        (Filter("n", "is not null"), [1, 2, 3, 5]),
        (Filter("f", "is null"), [2]),
        (Filter("tags", "is null"), [4]),
        (Filter("f", ">", 0), [1, 5]),  # int value on a float column
        (Filter("f", "=", 0.0), [4]),
        (Filter("d", ">=", dt.date(2024, 1, 4)), [4, 5]),
        (Filter("b", "=", True), [1, 4]),
        (Filter("s", "<", "b"), [1, 2, 5]),  # "B" < "a" < "b" in byte order
    ],
    ids=repr,
)
def test_every_operator(catalog: Catalog, flt: Filter, expected: list[int]) -> None:
    assert ids(catalog, [flt]) == expected
    assert ids(catalog, flt) == expected  # a single Filter is accepted too


def test_ops_are_the_documented_set() -> None:
    assert set(OPS) == {
        "=", "!=", "<", "<=", ">", ">=", "in", "not in", "contains",
        "includes", "includes any", "includes all", "is null", "is not null",
    }  # fmt: skip


def test_flat_list_is_and(catalog: Catalog) -> None:
    assert ids(catalog, [Filter("n", ">", 10), Filter("n", "<", 50)]) == [2, 3]
    assert ids(catalog, [Filter("n", ">", 10), Filter("s", "contains", "y")]) == [3]


def test_list_of_lists_is_or_of_ands(catalog: Catalog) -> None:
    dnf = [
        [Filter("n", ">", 10), Filter("n", "<", 30)],  # id 2
        [Filter("s", "=", "Brand#13")],  # id 5
        [Filter("n", "is null"), Filter("f", "=", 0.0)],  # id 4
    ]
    assert ids(catalog, dnf) == [2, 4, 5]


def test_or_branches_mixed_with_single_filters(catalog: Catalog) -> None:
    assert ids(catalog, [[Filter("n", "=", 10)], Filter("n", "=", 30)]) == [1, 3]


def test_empty_filters_mean_no_filter(catalog: Catalog) -> None:
    assert ids(catalog, None) == [1, 2, 3, 4, 5]
    assert ids(catalog, []) == [1, 2, 3, 4, 5]
    # An empty AND-branch is true, so the OR that holds it keeps every row.
    assert ids(catalog, [[]]) == [1, 2, 3, 4, 5]
    assert ids(catalog, [[Filter("n", "=", 10)], []]) == [1, 2, 3, 4, 5]


def test_in_empty_list_matches_nothing_and_not_in_empty_everything(catalog: Catalog) -> None:
    assert ids(catalog, [Filter("n", "in", [])]) == []
    assert ids(catalog, [Filter("n", "not in", [])]) == [1, 2, 3, 4, 5]


def test_in_with_value_the_column_cannot_hold_agrees_with_equality(catalog: Catalog) -> None:
    # 20.5 is not an integer: it must not be truncated to 20 by a cast.
    assert ids(catalog, [Filter("n", "=", 20.5)]) == []
    assert ids(catalog, [Filter("n", "in", [20.5])]) == []
    assert ids(catalog, [Filter("n", "in", [20.0, 30])]) == [2, 3]
    assert ids(catalog, [Filter("n", "not in", [20.5])]) == [1, 2, 3, 5]


@pytest.mark.parametrize(
    ("needle", "expected"),
    [("a.c", [2]), ("x*y", [3]), ("*", [3]), (".", [2]), ("^a", []), ("Brand#1", [5])],
)
def test_contains_is_literal_never_regex(
    catalog: Catalog, needle: str, expected: list[int]
) -> None:
    assert ids(catalog, [Filter("s", "contains", needle)]) == expected


def test_contains_with_invalid_regex_is_still_literal() -> None:
    data = pl.DataFrame({"s": ["a(b", "a[", "ab"]})
    expr = to_expr([Filter("s", "contains", "(")], data.schema)
    assert data.filter(expr)["s"].to_list() == ["a(b"]
    expr = to_expr([Filter("s", "contains", "[")], data.schema)
    assert data.filter(expr)["s"].to_list() == ["a["]


def test_sql_predicate_string(catalog: Catalog) -> None:
    assert ids(catalog, "n < 30 AND s = 'abc'") == [1]
    assert ids(catalog, "n >= 30 OR s IS NULL") == [3, 4, 5]


def test_sql_predicate_string_on_orders() -> None:
    orders = pl.DataFrame({"o_orderkey": [1, 5, 12, 20], "o_status": ["F", "O", "F", "F"]})
    cat = Catalog({"tpch": Database([FunctionTable(lambda: orders, name="orders")])})
    lf = cat.table("tpch.orders", filters="o_orderkey < 10 AND o_status = 'F'")
    assert lf.collect()["o_orderkey"].to_list() == [1]


def test_polars_expression(catalog: Catalog) -> None:
    assert ids(catalog, (pl.col("n") > 10) & pl.col("s").str.starts_with("a")) == [2]


@pytest.mark.parametrize(
    "predicate",
    ["n = 1; DROP TABLE t", "n = = 1", "SELECT * FROM t"],
)
def test_sql_predicate_that_does_not_parse_is_refused(catalog: Catalog, predicate: str) -> None:
    with pytest.raises(InvalidFilterError, match="Cannot parse SQL predicate"):
        catalog.table("db.t", filters=predicate)


def test_sql_predicate_with_unknown_column(catalog: Catalog) -> None:
    with pytest.raises(InvalidFilterError, match=r"Unknown filter column 'nn'.*Did you mean 'n'"):
        catalog.table("db.t", filters="nn > 1")


def test_expression_with_unknown_column(catalog: Catalog) -> None:
    with pytest.raises(InvalidFilterError, match=r"'zzz'.*Valid columns: id, n, s, f, tags, d, b"):
        catalog.table("db.t", filters=pl.col("zzz") > 1)


def test_unknown_column_names_column_and_choices(catalog: Catalog) -> None:
    with pytest.raises(InvalidFilterError) as info:
        catalog.table("db.t", filters=[Filter("nn", "=", 1)])
    message = str(info.value)
    assert "'nn'" in message
    assert "'db.t'" in message
    assert "Did you mean 'n'" in message
    assert "Valid columns: id, n, s, f, tags, d, b" in message


def test_unknown_operator_names_column_and_choices() -> None:
    with pytest.raises(InvalidFilterError, match=r"'==' on column 'n'.*Did you mean '='") as info:
        Filter("n", "==", 1)  # type: ignore[arg-type]
    assert "Valid operators: =, !=, <, <=, >, >=, in, not in, contains" in str(info.value)
    with pytest.raises(InvalidFilterError, match=r"'like' on column 's'"):
        Filter("s", "like", "a%")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("flt", "pattern"),
    [
        (
            Filter("n", "=", "1 or 1=1"),
            r"'n' = '1 or 1=1'.*str value does not fit column 'n'.*Int64",
        ),
        (Filter("n", "in", [1, "2"]), r"'n' in '2'.*column 'n' of type Int64"),
        (Filter("s", "=", 1), r"int value does not fit column 's'.*String"),
        (Filter("n", "=", True), r"bool value does not fit column 'n'"),
        (Filter("d", "=", "01/02/2024"), r"column 'd' is a Date column.*not an ISO date"),
        (Filter("d", "=", dt.datetime(2024, 1, 1)), r"column 'd' of type Date"),
        (Filter("b", "=", 1), r"column 'b' of type Boolean"),
        (Filter("n", "contains", "1"), r"'contains' needs a string column.*'n'"),
        (Filter("s", "contains", 1), r"'contains' needs a string column.*value is 1"),
        (Filter("n", "includes", 1), r"'includes' needs a list column, but 'n'"),
        (Filter("tags", "includes", 1), r"int value does not fit column 'tags'"),
        (Filter("tags", "includes all", ["a", 2]), r"'tags' includes all 2"),
    ],
    ids=repr,
)
def test_wrong_value_type_is_refused(catalog: Catalog, flt: Filter, pattern: str) -> None:
    with pytest.raises(InvalidFilterError, match=pattern):
        catalog.table("db.t", filters=[flt])


@pytest.mark.parametrize(
    "bad",
    [
        ("n", "=", 1),
        [("n", "=", 1)],
        [[("n", "=", 1)]],
        [Filter("n", "=", 1), "n = 1"],
        {"n": 1},
        42,
    ],
    ids=repr,
)
def test_tuples_and_other_shapes_are_refused(catalog: Catalog, bad: object) -> None:
    with pytest.raises(InvalidFilterError, match=r"Cannot use .* as a filter"):
        catalog.table("db.t", filters=bad)


def test_to_dnf_refuses_bare_tuple_directly() -> None:
    with pytest.raises(InvalidFilterError, match=r"Cannot use 'n' as a filter"):
        to_dnf(("n", "=", 1))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (("", "=", 1), "non-empty string"),
        ((None, "=", 1), "non-empty string"),
        (("n", "in", "abc"), "needs a list of values"),
        (("n", "not in", 5), "needs a list of values"),
        (("n", "includes any", "a"), "needs a list of values"),
        (("n", "is null", 1), "takes no value"),
        (("n", "=", None), "use 'is null'"),
        (("n", "<", None), "has no value"),
    ],
)
def test_malformed_filter_is_refused_at_construction(
    args: tuple[object, ...], pattern: str
) -> None:
    with pytest.raises(InvalidFilterError, match=pattern):
        Filter(*args)  # type: ignore[arg-type]


def test_filter_is_frozen_hashable_and_normalises_collections() -> None:
    f = Filter("p", "in", ["b", "a"])
    assert f.value == ("b", "a")
    assert Filter("p", "in", {"b", "a"}).value == ("a", "b")
    assert hash(f) == hash(Filter("p", "in", ("b", "a")))
    with pytest.raises(AttributeError):
        f.value = ("c",)  # type: ignore[misc]


def test_to_dict_is_json_friendly() -> None:
    assert Filter("p", "in", ("a", "b")).to_dict() == {
        "column": "p",
        "op": "in",
        "value": ["a", "b"],
    }
    assert Filter("d", ">=", dt.date(2024, 1, 2)).to_dict()["value"] == "2024-01-02"
    assert Filter("n", "is null").to_dict() == {"column": "n", "op": "is null", "value": None}


def test_describe_summarises_for_logs() -> None:
    assert describe(None) == "none"
    assert describe([]) == "none"
    assert describe([Filter("a", "=", 1), Filter("b", "in", [2, 3])]) == "a = 1 AND b in [2, 3]"
    assert describe([[Filter("a", "=", 1)], [Filter("c", "is null")]]) == "(a = 1) OR (c is null)"
    assert describe("a < 3") == "a < 3"
    long = describe([Filter("s", "in", [str(i) * 5 for i in range(30)])])
    assert long.endswith("...")
    assert len(long) < 80


def test_pinned_values_intersects_equalities_and_ins() -> None:
    branch = [Filter("p", "in", ["a", "b", "c"]), Filter("p", "=", "b"), Filter("q", "=", 1)]
    assert pinned_values(branch, "p") == ("b",)
    assert pinned_values(branch, "q") == (1,)
    assert pinned_values([Filter("p", "!=", "a")], "p") is None
    assert pinned_values([Filter("p", "=", "a"), Filter("p", "=", "b")], "p") == ()


def test_to_expr_returns_none_without_filters() -> None:
    assert to_expr(None, SCHEMA) is None
    assert to_expr([], SCHEMA) is None


def test_to_expr_translation_matches_hand_written_expression() -> None:
    dnf = [[Filter("n", ">=", 20), Filter("s", "contains", ".")], [Filter("f", "is null")]]
    expr = to_expr(dnf, SCHEMA)
    assert expr is not None
    expected = ((pl.col("n") >= 20) & pl.col("s").str.contains(r"\.")) | pl.col("f").is_null()
    assert DATA.filter(expr)["id"].to_list() == DATA.filter(expected)["id"].to_list() == [2]
