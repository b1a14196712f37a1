"""Rebuilding a site: kept pages, re-rendered neighbours, and output identical to a full build;
rendering in worker processes gives the same bytes as one process."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from neuralake import Catalog, Database, FunctionTable
from neuralake.export.site import SiteReport, build_site, terms
from neuralake.export.site.render import MANIFEST
from neuralake.export.site.terms import load

N = 240
PER_DB = 80


def _frame() -> pl.LazyFrame:
    return pl.LazyFrame()


def make_catalog(n: int = N, *, described: dict[int, str] | None = None,
                 drop: frozenset[int] = frozenset(), add: int = 0,
                 tagged: dict[int, list[str]] | None = None) -> Catalog:  # fmt: skip
    """``t<i>`` in ``db<i // PER_DB>``; every 10th table reads the one before it (lineage) and
    names ``db0.t000.id`` in a column doc, so those pages depend on other tables."""
    described = described or {}
    dbs: dict[str, list[FunctionTable]] = {}
    for i in range(n + add):
        if i in drop:
            continue
        kwargs: dict[str, object] = {}
        if i % 10 == 1:
            prev = i - 1
            kwargs["inputs"] = [f"db{prev // PER_DB}.t{prev:03d}"]
            kwargs["column_docs"] = {"ref_id": "Same as db0.t000.id", "id": f"Row {i}"}
        dbs.setdefault(f"db{i // PER_DB}", []).append(FunctionTable(
            _frame, name=f"t{i:03d}", schema={"id": pl.Int64, "ref_id": pl.Int64},
            description=described.get(i, f"Table **{i}** about warehouse {i % 7}."),
            owner=f"team-{i % 5}", tags=(tagged or {}).get(i, [f"tag{i % 3}"]), **kwargs,
        ))  # fmt: skip
    return Catalog({db: Database(ts) for db, ts in dbs.items()}, name="inc")


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def assert_same_tree(a: Path, b: Path) -> None:
    ta, tb = tree(a), tree(b)
    assert sorted(ta) == sorted(tb)
    different = [rel for rel in ta if ta[rel] != tb[rel]]
    assert different == []


def build(catalog: Catalog, out: Path, **kwargs: object) -> SiteReport:
    report = build_site([(catalog, None)], out, progress=False, **kwargs)  # type: ignore[arg-type]
    assert report.failed == ()
    return report


@pytest.fixture
def base_site(tmp_path: Path) -> Path:
    out = tmp_path / "site"
    report = build(make_catalog(), out, workers=2)
    assert report.rendered == report.tables == N
    assert not report.search_reused
    return out


def test_parallel_build_equals_single_process_build(tmp_path: Path, base_site: Path) -> None:
    single = build(make_catalog(), tmp_path / "single", workers=1)
    assert single.rendered == N
    assert_same_tree(base_site, tmp_path / "single")


def test_unchanged_rebuild_keeps_every_page_and_the_search_index(base_site: Path) -> None:
    before = tree(base_site)
    report = build(make_catalog(), base_site, workers=2)
    assert (report.tables, report.rendered, report.search_reused) == (N, 0, True)
    assert tree(base_site) == before
    manifest = json.loads((base_site / MANIFEST).read_text())
    assert len(manifest["pages"]) == N


def test_changed_description_re_renders_one_page(tmp_path: Path, base_site: Path) -> None:
    changed = make_catalog(described={42: "Now about **returns**, see db0.t000."})
    report = build(changed, base_site, workers=2)
    assert report.rendered == 1
    assert not report.search_reused  # the description is indexed
    html = (base_site / "inc/db0/t042.html").read_text()
    assert "<strong>returns</strong>" in html
    build(changed, tmp_path / "full", workers=1, reuse=False)
    assert_same_tree(base_site, tmp_path / "full")


def test_added_table_renders_only_its_page(tmp_path: Path, base_site: Path) -> None:
    grown = make_catalog(add=1)
    report = build(grown, base_site, workers=1)
    assert (report.tables, report.rendered) == (N + 1, 1)
    assert "t240.html" in (base_site / "inc/db3/index.html").read_text()
    build(grown, tmp_path / "full", reuse=False)
    assert_same_tree(base_site, tmp_path / "full")


def test_removed_table_re_renders_the_pages_that_link_to_it(
    tmp_path: Path, base_site: Path
) -> None:
    # t000 is named in the column docs of every table i % 10 == 1 and is t001's lineage input.
    shrunk = make_catalog(drop=frozenset({0, 117}))
    report = build(shrunk, base_site, workers=2)
    dependents = len([i for i in range(N) if i % 10 == 1])
    assert (report.tables, report.rendered) == (N - 2, dependents)
    assert not (base_site / "inc/db0/t000.html").exists()
    assert not (base_site / "inc/db1/t117.html").exists()
    assert 'href="../db0/t000.html' not in (base_site / "inc/db0/t011.html").read_text()
    build(shrunk, tmp_path / "full", reuse=False)
    assert_same_tree(base_site, tmp_path / "full")


def test_lineage_neighbour_and_option_changes_re_render(tmp_path: Path, base_site: Path) -> None:
    # t118 is the lineage input of t121: dropping it changes t121's graph (and only that page).
    report = build(make_catalog(drop=frozenset({118})), base_site, workers=2)
    assert report.rendered == 0  # t121 reads t120, not t118
    report = build(make_catalog(drop=frozenset({120})), base_site, workers=2)
    assert report.rendered == 2  # t121 loses its upstream link; t118 comes back
    report = build(make_catalog(drop=frozenset({120})), base_site, workers=2,
                   api_url="http://127.0.0.1:8080")  # fmt: skip
    assert report.rendered == N - 1  # an option every page shows


def test_rebuild_without_the_last_search_records_describes_kept_pages_again(
    tmp_path: Path,
) -> None:
    """Kept pages' search documents come from the last build's records; if those are gone, the
    tables are described again, and the output still equals a full build."""
    out = tmp_path / "site"
    build(make_catalog(), out)
    for f in (out / "search" / "docs").iterdir():
        f.unlink()
    changed = make_catalog(described={5: "A new description of the beacon."})
    assert build(changed, out).rendered == 1
    full = tmp_path / "full"
    build(changed, full, reuse=False)
    assert_same_tree(out, full)


def _inodes(site: Path) -> dict[str, int]:
    return {p.relative_to(site).as_posix(): p.stat().st_ino
            for p in (site / "search").rglob("*.gz")}  # fmt: skip


def test_changed_text_rewrites_only_the_search_files_of_its_words(
    tmp_path: Path, base_site: Path
) -> None:
    """t042 loses ``warehouse`` and gains ``beacon``: the last build's index is updated (the
    nodes under ``wa``, ``be`` and the page's other words' roots, its records file and the tree
    index), every other file is kept, and the result equals a full build."""
    before = _inodes(base_site)
    names = (base_site / "search" / "names.json").stat().st_ino
    changed = make_catalog(described={42: "Now about the beacon."})
    report = build(changed, base_site, workers=2)
    assert (base_site / "search" / "names.json").stat().st_ino == names  # no name changed
    assert (report.rendered, report.search_reused, report.search_updated) == (1, False, True)
    after = _inodes(base_site)
    rewritten = sorted(rel for rel in after if after[rel] != before.get(rel))
    assert {"search/terms/be.json.gz", "search/docs/1.json.gz", "search/terms.json.gz",
            "search/terms/th.json.gz"} <= set(rewritten)  # fmt: skip
    assert "search/terms/42.json.gz" not in after  # the word only t042 had
    assert "search/docs/0.json.gz" not in rewritten
    assert "search/filters.json.gz" not in rewritten  # database, type and tags did not change
    assert len(rewritten) < len(after) / 3
    build(changed, tmp_path / "full", workers=1, reuse=False)
    assert_same_tree(base_site, tmp_path / "full")


def test_changed_tags_rewrite_the_filters(tmp_path: Path, base_site: Path) -> None:
    before = _inodes(base_site)
    changed = make_catalog(tagged={42: ["tag1", "beacon"]})
    build(changed, base_site, workers=1)
    assert _inodes(base_site)["search/filters.json.gz"] != before["search/filters.json.gz"]
    build(changed, tmp_path / "full", reuse=False)
    assert_same_tree(base_site, tmp_path / "full")


def test_damaged_search_node_is_written_whole_again(tmp_path: Path, base_site: Path) -> None:
    node = base_site / "search" / "terms" / "wa.json.gz"
    node.write_bytes(b"\x1f\x8b not gzip")
    changed = make_catalog(described={42: "Now about the beacon."})
    build(changed, base_site, workers=1)
    build(changed, tmp_path / "full", workers=1, reuse=False)
    assert_same_tree(base_site, tmp_path / "full")


def test_moved_pages_write_the_search_index_whole(tmp_path: Path, base_site: Path) -> None:
    """A new table changes every later page's number: nothing of the old index is updated."""
    grown = make_catalog(add=1, described={42: "Now about the beacon."})
    before = _inodes(base_site)
    assert not build(grown, base_site, workers=1).search_updated
    after = _inodes(base_site)
    assert not set(before.values()) & set(after.values())
    build(grown, tmp_path / "full", reuse=False)
    assert_same_tree(base_site, tmp_path / "full")


def test_updated_split_nodes_equal_a_full_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With small nodes the roots split: an update rebuilds their unions from kept and changed
    keys alike."""
    monkeypatch.setattr(terms, "LIMIT", 60)
    out = tmp_path / "site"
    build(make_catalog(), out, workers=1)
    assert load(out / terms.INDEX)["split"]
    before = _inodes(out)
    changed = make_catalog(described={42: "Now about the beacon and tag7.", 43: "Warehouse 3."})
    build(changed, out, workers=1)
    after = _inodes(out)
    assert sum(after[rel] == before.get(rel) for rel in after) > len(after) / 2  # updated
    build(changed, tmp_path / "full", workers=1, reuse=False)
    assert_same_tree(out, tmp_path / "full")
