"""The static HTML catalog site: ``build_site`` renders it, ``serve`` previews it.

Example:
    >>> from neuralake.export.site import build_site  # doctest: +SKIP
    >>> report = build_site([(catalog, "examples.tpch.catalog:catalog")], "site/")  # doctest: +SKIP
    >>> report.tables, report.failed  # doctest: +SKIP
    (8, ())
    >>> build_site([(catalog, None)], "site/", preview_rows=10)  # first rows on pages  # doctest: +SKIP
"""

from __future__ import annotations

from neuralake.export.site.builder import SiteBuildError, SiteReport, build_site
from neuralake.export.site.serve import serve

__all__ = ["SiteBuildError", "SiteReport", "build_site", "serve"]
