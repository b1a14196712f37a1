"""Queries over the catalog's tables.

- :mod:`neuralake.query.sandbox`: what catalog SQL and filter predicate strings may contain,
  checked with sqlglot before any engine sees the text.
- :mod:`neuralake.query.sql`: ``catalog.sql()``, the sandboxed SQL path planned lazily by
  Polars' SQL engine.

Nothing is imported here, so ``import neuralake`` never loads Polars' SQL engine or sqlglot.
"""
