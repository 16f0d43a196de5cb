"""Benchmark: ``golden-images audit`` vs its API floor vs Cloud Custodian, on one local moto server.

    python -m benchmarks.tools_audit [--amis N] [--runs K] [--format text|markdown|json]
                                     [--custodian PATH | --no-custodian] [--latency-ms MS] [--compare PREVIOUS]

(``python benchmarks/tools_audit.py`` works too.) Measuring is :mod:`benchmarks.measure.audit`, the ratios
:func:`benchmarks.compare.audit_figures`, the output :mod:`benchmarks.render`. Targets: audit/floor ≤ 1.2,
audit/custodian ≤ 0.5. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

if not __package__:  # run as a script: make the checkout importable (``benchmarks`` is not installed)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import compare, render
from benchmarks.measure import audit
from benchmarks.run import load_result


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point (also of the server and memory child processes, via hidden flags)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--amis", type=int, default=300, help="AMIs per region (default 300; issue target: 5000)"
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="timed rounds, audit and floor once each (default 3)"
    )
    parser.add_argument(
        "--format", choices=render.FORMATS, default="text", help="output format (default text)"
    )
    parser.add_argument("--json", action="store_true", help="same as --format json")
    parser.add_argument("--custodian", help="path to the custodian executable")
    parser.add_argument("--no-custodian", action="store_true", help="skip the Cloud Custodian comparison")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated inventory (default 7)")
    parser.add_argument(
        "--memory-runs", type=int, default=3, help="fresh processes per contender for peak memory (default 3)"
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="server-side delay per request, models AWS latency (default 0)",
    )
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="also time the floor with the audit's one-by-one GetImage lookups (floor-serial; no target)",
    )
    parser.add_argument("--save", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument(
        "--compare", type=Path, help="a previous --format json result to diff the ratios against"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=("audit", "floor"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        audit.serve(args.amis, args.seed, args.latency_ms)
        return 0
    if args.child:
        audit.child(args.child)
        return 0
    previous = load_result(args.compare) if args.compare else None
    raw = audit.measure(
        args.amis,
        args.runs,
        seed=args.seed,
        latency_ms=args.latency_ms,
        memory_runs=args.memory_runs,
        custodian=args.custodian,
        no_custodian=args.no_custodian,
        diagnose=args.diagnose,
        log=lambda message: print(message, file=sys.stderr, flush=True),
    )
    figures = compare.audit_figures(raw)
    if args.save:
        args.save.write_text(render.render(figures, "json") + "\n", encoding="utf-8")
    print(render.render(figures, "json" if args.json else args.format))
    if previous is not None:
        print(render.render_diff(compare.diff(previous, figures)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
