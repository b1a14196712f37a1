"""Example catalogs for neuralake (``examples.tpch`` is the TPC-H demo lake)."""
