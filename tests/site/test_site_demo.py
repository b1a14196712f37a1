"""The demo (TPC-H) site: every Python snippet runs as printed against a generated demo lake."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

DEMO_REF = "examples.tpch.catalog:catalog"
SNIPPET = re.compile(r'<pre data-snippet="(python|python-sql)"[^>]*><code>(.*?)</code></pre>', re.S)

pytestmark = pytest.mark.skipif(
    not (REPO / "examples" / "tpch" / "catalog.py").exists(), reason="examples/tpch not present"
)


def demo_env(lake: Path) -> dict[str, str]:
    env = dict(os.environ, NEURALAKE_DEMO_LAKE=str(lake))
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "src"), env.get("PYTHONPATH", "")])
    return env


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("demo")
    lake, out = root / "lake", root / "site"
    gen = subprocess.run([sys.executable, "-m", "examples.tpch.generate", "--scale", "0.01",
                          "--lake", str(lake)], cwd=REPO, env=demo_env(lake),
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert gen.returncode == 0, gen.stderr
    code = (
        "import sys\n"
        "from neuralake.catalog import load_catalog\n"
        "from neuralake.export.site import build_site\n"
        f"r = build_site([(load_catalog({DEMO_REF!r}), {DEMO_REF!r})], sys.argv[1], progress=False)\n"
        "print(r.tables, len(r.failed))\n"
        "for f in r.failed: print(f)\n"
    )
    build = subprocess.run([sys.executable, "-c", code, str(out)], cwd=REPO, env=demo_env(lake),
                           capture_output=True, text=True, timeout=600)  # fmt: skip
    assert build.returncode == 0, build.stderr
    tables, failed = map(int, build.stdout.split()[:2])
    assert tables >= 8, build.stdout
    assert failed == 0, build.stdout
    return out, lake


def demo_snippets(site: Path) -> list[tuple[str, str]]:
    found = []
    for page in sorted(site.glob("*/*/*.html")):
        if page.name == "index.html":
            continue
        for kind, code in SNIPPET.findall(page.read_text(encoding="utf-8")):
            found.append((f"{page.stem}:{kind}", html.unescape(code)))
    return found


def test_every_demo_python_snippet_runs_and_returns_rows(demo_site: tuple[Path, Path]) -> None:
    site, lake = demo_site
    snippets = demo_snippets(site)
    assert len(snippets) >= 16
    failures = []
    for label, code in snippets:
        assert 'load_catalog("examples.tpch.catalog:catalog")' in code
        source = code + "assert df.height > 0, 'the snippet returned no rows'\n"
        run = subprocess.run([sys.executable, "-W", "ignore", "-c", source], cwd=REPO,
                             env=demo_env(lake), capture_output=True, text=True, timeout=300)  # fmt: skip
        if run.returncode != 0:
            failures.append(f"{label}:\n{code}\n{run.stderr[-1500:]}")
    assert failures == [], "\n\n".join(failures)
