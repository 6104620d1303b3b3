"""Benchmarks for qtok_widgets: run ``python -m benchmarks.run`` (see benchmarks/README.md)."""
