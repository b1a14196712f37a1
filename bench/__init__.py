"""Reproducible neuralake benchmarks (run ``python -m bench.run_all``)."""
