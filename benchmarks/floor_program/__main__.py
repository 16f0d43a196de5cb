"""Floor program: declares exactly the resources of a manifest (see :mod:`benchmarks.floor_program.replay`)."""

from benchmarks.floor_program.replay import replay

replay()
