"""The TPC-H demo catalog: ``neuralake -c examples.tpch.catalog:catalog tables``.

Example:
    >>> from examples.tpch.catalog import catalog  # doctest: +SKIP
    >>> catalog.table("tpch.part", filters=[Filter("p_brand", "=", "Brand#13")]).collect()  # doctest: +SKIP
"""

from examples.tpch import tables
from neuralake import Catalog, ModuleDatabase, StorageConfig

catalog = Catalog(
    {"tpch": ModuleDatabase(tables)}, name="tpch_demo", storage=StorageConfig.from_env()
)
