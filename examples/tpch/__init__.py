"""The TPC-H demo lake: data generation (:mod:`.generate`), table declarations (:mod:`.tables`)
and the catalog built from them (:mod:`.catalog`).

Example:
    >>> from examples.tpch.generate import generate  # doctest: +SKIP
    >>> generate(Path("lake"), scale=0.1)  # doctest: +SKIP
    >>> from examples.tpch.catalog import catalog  # doctest: +SKIP
    >>> catalog.table("tpch.nation").collect().height  # doctest: +SKIP
    25
"""
