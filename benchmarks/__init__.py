"""Benchmarks for backprop-course: ``python -m benchmarks [--quick]`` writes RESULTS.md."""
