"""Ratio benchmarks of golden-images against floors measured in the same run (issues 8 and 18); see
docs/benchmarks.md. :mod:`benchmarks.measure` measures, :mod:`benchmarks.compare` judges and diffs,
:mod:`benchmarks.render` prints."""
