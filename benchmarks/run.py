"""``python -m benchmarks``: measure the preview suite (P1, P2, P3, P5), judge it, print it.

Measuring is :mod:`benchmarks.measure.preview`, the figures and verdicts :mod:`benchmarks.compare`, the
output :mod:`benchmarks.render`; this module only wires them to the command line. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn

from benchmarks import compare, render
from benchmarks.measure import preview


def load_result(path: Path) -> dict[str, Any]:
    """A saved figures document (``--format json`` or ``--save`` output); exits 2 naming the file and the fix
    when it is not one."""

    def refuse(why: str) -> NoReturn:
        print(f"error: --compare {path}: {why}; pass a --save or --format json output", file=sys.stderr)
        raise SystemExit(2)

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        refuse(f"not a readable benchmark result ({exc})")
    if not isinstance(data, dict) or "meta" not in data:
        refuse("no 'meta' field, not a benchmark result")
    return data


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--format", choices=render.FORMATS, default="text", help="output format (default text)"
    )
    parser.add_argument("--json", action="store_true", help="same as --format json")
    parser.add_argument("--runs", type=int, default=5, help="runs per variant (default 5)")
    parser.add_argument(
        "--images", type=int, default=20, help="catalog size for P1, P2, P5 and P3's small side (default 20)"
    )
    parser.add_argument(
        "--scale-images", type=int, default=200, help="catalog size of P3's large side (default 200)"
    )
    parser.add_argument(
        "--only", default="P1,P2,P3,P5", help="comma-separated subset, e.g. P1,P5 (default all)"
    )
    parser.add_argument("--cpus", type=int, default=2, help="CPUs the benchmark may use (default 2)")
    parser.add_argument("--keep", type=Path, help="keep the generated projects and worker files here")
    parser.add_argument("--save", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument(
        "--compare", type=Path, help="a previous --format json result to diff the ratios against"
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=compare.DEFAULT_TOLERANCE,
        help=f"relative ratio change --compare calls a regression (default {compare.DEFAULT_TOLERANCE})",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print every worker's figures to stderr")
    args = parser.parse_args(argv)
    selected = {part.strip().upper() for part in args.only.split(",") if part.strip()}
    unknown = selected - {"P1", "P2", "P3", "P5"}
    if unknown:
        parser.error(f"--only: unknown benchmark(s) {', '.join(sorted(unknown))}; use P1, P2, P3, P5")
    previous = load_result(args.compare) if args.compare else None

    def log(message: str) -> None:
        if args.verbose:
            print(message, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="golden-images-bench-") as tmp:
        scratch = args.keep or Path(tmp)
        scratch.mkdir(parents=True, exist_ok=True)
        raw = preview.measure(
            scratch,
            selected,
            runs=args.runs,
            images=args.images,
            scale_images=args.scale_images,
            cpus=args.cpus,
            verbose=args.verbose,
            log=log,
        )
    figures = compare.suite_figures(raw)
    if args.save:
        args.save.write_text(render.render(figures, "json") + "\n", encoding="utf-8")
    print(render.render(figures, "json" if args.json else args.format))
    if previous is not None:
        print(render.render_diff(compare.diff(previous, figures, args.tolerance)), file=sys.stderr)
    return 0
