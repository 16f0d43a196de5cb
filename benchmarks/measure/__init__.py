"""Measuring only: generated catalogs, worker processes, the moto-backed audit run. Samples out, no verdicts
(:mod:`benchmarks.compare`) and no printing (:mod:`benchmarks.render`)."""
