"""Ratio benchmarks of golden-images against floors measured in the same run (issue 8); see docs/benchmarks.md."""
