"""The full-text index: keys, fields, encoded sets, the prefix tree and its files, and
searches answered from it in headless Chromium."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from playwright.sync_api import expect
from test_site_browser import results, search

from neuralake import Catalog, Database, FunctionTable
from neuralake.export.site import build_site, terms
from neuralake.export.site.names import shard_file
from neuralake.export.site.terms import (
    COLUMN,
    DEPRECATED,
    LABEL,
    NAME,
    TEXT,
    SearchDoc,
    TermIndex,
    decode_set,
    encode_set,
    load,
    page_keys,
    word_key,
)

N = 600


def test_word_keys_fold_case_and_plurals() -> None:
    assert [word_key(w) for w in ("Warehouses", "warehouse", "entries", "addresses", "status",
                                  "class", "bus", "is")] == [
        "warehouse", "warehouse", "entry", "address", "status", "class", "bus", "is"]  # fmt: skip
    assert list(terms.terms("Owner team-042, t12345_id & Zürich.")) == [
        "owner", "team-042", "team", "042", "t12345_id", "t12345", "id", "zürich"]  # fmt: skip


def _doc(name: str = "Orders_Daily", **kw: object) -> SearchDoc:
    values: dict[str, object] = dict(
        name=name, database="db", type="delta", catalog="c", deprecated=False, owner="team-7",
        tags=("finance",), columns=("order_id",), text="Daily orders & returns.")  # fmt: skip
    values.update(kw)
    return SearchDoc(**values)  # type: ignore[arg-type]


def test_page_keys_take_the_best_field() -> None:
    keys = page_keys(_doc())
    assert keys["orders_daily"] == NAME  # the whole compound name, and its parts
    assert keys["order"] == NAME  # the name beats the column and the text
    assert keys["daily"] == NAME
    assert keys["order_id"] == COLUMN
    assert keys["id"] == COLUMN
    assert keys["team-7"] == LABEL
    assert keys["finance"] == LABEL
    assert keys["return"] == TEXT
    assert "amp" not in keys
    assert set(page_keys(_doc(deprecated=True)).values()) == {DEPRECATED}


@pytest.mark.parametrize("members", [[], [0], [3, 4, 5, 900], list(range(0, 1000, 2))])
def test_sets_round_trip_in_the_shorter_encoding(members: list[int]) -> None:
    text = encode_set(members, 1000)
    assert decode_set(text, 1000) == members
    assert text.startswith("b:" if len(members) > 200 else "d:")
    mask = sum(1 << m for m in members)
    assert decode_set(terms._encode_bits(mask, 1000), 1000) == members


def _lookup(folder: Path, key: str) -> list[list[str]]:
    """What the browser does (search-worker.js ``lookup``): the key's sets, else its prefix's."""
    index = load(folder.parent / "terms.json.gz")
    at = key[:2]
    if at not in index["roots"]:
        return []
    while at in index["split"] and len(key) > len(at):
        at = key[: len(at) + 1]
    path = folder / (shard_file(at) + ".gz")
    if not path.exists():
        return []
    node = load(path)
    w = node.get("w", {})
    if key in w:
        return [w[key]]
    if at == key and "u" in node:
        return [node["u"]]
    return [sets for k, sets in w.items() if k.startswith(key)]


def _pages(found: list[list[str]], size: int) -> dict[int, int]:
    best: dict[int, int] = {}
    for sets in found:
        for field, text in enumerate(sets):
            for pn in decode_set(text, size):
                best[pn] = min(best.get(pn, 99), field)
    return best


def test_split_tree_answers_every_key_and_prefix(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(terms, "LIMIT", 200)  # split early
    index = TermIndex()
    n = 300
    for i in range(n):
        index.add(f"c/db/t{i}.html", _doc(name=f"warehouse_{i:03d}", columns=(f"wa{i % 7}_x",),
                                           text=f"Ware {i % 3} was here.",
                                           deprecated=i == 5))  # fmt: skip
    index.write(tmp_path)
    folder = tmp_path / terms.TERMS
    assert "u" in load(folder / "wa.json.gz")  # split, its union kept
    assert {"wa", "war", "ware"} <= set(load(folder.parent / "terms.json.gz")["split"])
    want: dict[str, dict[int, int]] = {}
    for pn in range(n):
        doc = index.docs[pn]
        assert doc is not None
        for k, field in page_keys(doc).items():
            want.setdefault(k, {})[pn] = field
    for k in want:  # every key: its own pages and fields
        assert _pages(_lookup(folder, k), n) == want[k], k
    for prefix in ("wa", "war", "ware", "wareh", "warehouse_0", "warehouse_04", "wa3"):
        expect_: dict[int, int] = {}
        for k, pages in want.items():
            if k.startswith(prefix):
                for pn, field in pages.items():
                    expect_[pn] = min(expect_.get(pn, 99), field)
        exact = want.get(prefix)
        assert _pages(_lookup(folder, prefix), n) == (exact or expect_), prefix
    assert _lookup(folder, "wxyz") == []
    records = load(tmp_path / terms.DOCS / "0.json.gz")
    assert records[1][:2] == ["c/db/t1.html", "warehouse_001"]


def _frame() -> pl.LazyFrame:
    return pl.LazyFrame()


def common_catalog(n: int = N) -> Catalog:
    """Every table mentions ``warehouse``; ``beacon`` is rare; t007's name has ``warehouse``."""
    tables = []
    for i in range(n):
        name = "warehouse_stock" if i == 7 else f"t{i:04d}"
        cols: dict[str, pl.DataType] = {f"c{i}_id": pl.Int64(), "amount": pl.Float64()}
        if i == 11:
            cols["warehouse_code"] = pl.String()
        note = " Uses the beacon feed." if i % 100 == 3 else ""
        tables.append(FunctionTable(
            _frame, name=name, schema=cols, owner=f"team-{i % 3}", tags=[f"tag{i % 2}"],
            description=f"Stock kept in the warehouse, batch {i}.{note}",
            deprecated="Use t0001." if i == 5 else None,
        ))  # fmt: skip
    return Catalog({"db": Database(tables)}, name="wh")


@pytest.fixture(scope="module")
def common_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("common") / "site"
    report = build_site([(common_catalog(), None)], out, progress=False)
    assert report.tables == N
    return out


def test_index_files_follow_page_order(common_site: Path) -> None:
    folder = common_site / terms.TERMS
    index = load(folder.parent / "terms.json.gz")
    assert index["n"] == N
    found = _lookup(folder, "warehouse")
    assert len(found) == 1
    sets = [decode_set(s, N) for s in found[0]]
    assert sum(map(len, sets)) == N  # each page in its best field only
    urls = [str(r[0]) for i in range(0, N, terms.CHUNK)  # page order: the records' order
            for r in load(common_site / terms.DOCS / f"{i // terms.CHUNK}.json.gz")]  # fmt: skip
    assert [urls[pn] for pn in sets[NAME]] == ["wh/db/warehouse_stock.html"]
    assert [urls[pn] for pn in sets[COLUMN]] == ["wh/db/t0011.html"]
    assert [urls[pn] for pn in sets[DEPRECATED]] == ["wh/db/t0005.html"]
    docs = terms.read_docs(common_site)
    assert (
        sorted(docs)
        == sorted(urls)
        == sorted(f"wh/db/{'warehouse_stock' if i == 7 else f't{i:04d}'}.html" for i in range(N))
    )
    assert docs["wh/db/t0011.html"].columns == ("c11_id", "amount", "warehouse_code")


def test_build_is_reproducible(common_site: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_site([(common_catalog(), None)], again, progress=False)
    files = sorted(p.relative_to(common_site) for p in (common_site / "search").rglob("*")
                   if p.is_file())  # fmt: skip
    assert len(files) > 3
    for rel in files:
        assert (again / rel).read_bytes() == (common_site / rel).read_bytes(), rel


@pytest.mark.browser
def test_common_words_rank_names_then_fields(
    common_site: Path, serve_dir: Callable, new_page: Callable
) -> None:
    page = new_page()
    page.goto(serve_dir(common_site))
    titles = search(page, "Warehouses")
    assert page.locator("#search-status").inner_text() == f"{N} tables found"
    assert titles[:2] == ["warehouse_stock", "t0011"]  # name match, then the column
    assert "t0005" not in titles  # deprecated: last, not on the first page
    titles = search(page, "warehouse beacon")
    assert page.locator("#search-status").inner_text() == "6 tables found"
    assert set(titles) == {f"t{i:04d}" for i in range(3, N, 100)}
    titles = search(page, "wareh amount")  # a prefix of a common word, and a common word
    assert page.locator("#search-status").inner_text() == f"{N} tables found"
    assert titles[0] == "warehouse_stock"
    page.locator("#search-more").click()
    expect(page.locator("#search-results li").nth(19)).to_be_visible()
    assert page.errors == []
    # the index nodes of the typed words and the records of the results shown, nothing else
    docs = [u for u in page.requests if "/search/docs/" in u]
    assert 0 < len(set(docs)) <= 10 + 6 + 20  # at most one file per result shown
    assert len(docs) == len(set(docs))  # each fetched once


@pytest.mark.browser
def test_rare_words_and_compound_columns(
    common_site: Path, serve_dir: Callable, new_page: Callable
) -> None:
    page = new_page()
    page.goto(serve_dir(common_site))
    assert set(search(page, "beacon")) == {f"t{i:04d}" for i in range(3, N, 100)}
    assert search(page, "c123_id") == ["t0123"]
    assert results(page) == ["t0123"]


def test_split_trees_are_written_the_same_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(terms, "LIMIT", 300)
    index = TermIndex()
    for i in range(400):
        index.add(f"c/db/t{i}.html", _doc(name=f"{['sku', 'ware', 'tax'][i % 3]}_{i:04d}",
                                           columns=(f"c{i % 13}_id",)))  # fmt: skip
    first, again = tmp_path / "first", tmp_path / "again"
    assert index.write(first) == index.write(again)
    files = sorted(p.relative_to(first) for p in first.rglob("*.gz"))
    assert len(files) > 20
    assert len(terms.load(first / terms.INDEX)["split"]) > 3
    for rel in files:
        assert (again / rel).read_bytes() == (first / rel).read_bytes()
    assert sorted(p.relative_to(again) for p in again.rglob("*.gz")) == files


def test_nodes_named_like_the_index_files_keep_their_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(terms, "LIMIT", 60)  # split "in" and "fi" down to "index" and "filters"
    index = TermIndex()
    n = 120
    words = ("index", "indexer", "filters", "filtered", "inbox", "final")
    for i in range(n):
        index.add(f"c/db/t{i}.html", _doc(name=f"t{i}", text=" ".join(words[: 1 + i % 6])))
    index.write(tmp_path)
    folder = tmp_path / terms.TERMS
    assert (folder / "index.json.gz").exists()
    assert (folder / "filter.json.gz").exists()
    assert sorted(_pages(_lookup(folder, "index"), n)) == list(range(n))
    assert sorted(_pages(_lookup(folder, "filter"), n)) == [i for i in range(n) if i % 6 >= 2]
    assert load(tmp_path / terms.INDEX)["n"] == n
    assert set(load(tmp_path / terms.FILTERS_FILE)) == {"database", "type", "tag"}


@pytest.mark.parametrize("text", ["x:AA==", "b:AA==", "d:" + "gA==", "d:Cg=="])
def test_damaged_sets_are_refused(text: str) -> None:
    """Another scheme, a bitset of the wrong length, a varint cut short, a page past the end."""
    with pytest.raises(ValueError, match="page set"):
        decode_set(text, 10)
