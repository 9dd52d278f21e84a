"""A change measured side by side: this checkout's ``runbook run`` against another checkout's (``--before``) and the
guide's bare commands, in alternating pairs on a fresh emulator each (``run.bare_pairs``).

    python benchmarks/before_after.py --before ../main-checkout [--pairs 3] [--only 01-setup --only 02-plan-and-apply]

Each pair runs the bare commands, then both checkouts' ``runbook run`` (fresh work and output directories each), the
order of the two alternating from pair to pair; the machine's load average is printed before and after. The JSON
(``--json``) holds every pair's seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--before",
        type=Path,
        required=True,
        metavar="CHECKOUT",
        help="the checkout to compare with (its package runs with this environment's packages)",
    )
    parser.add_argument("--pairs", type=int, default=3, metavar="N", help="alternating pairs (default 3)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="as runbook run --only")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument(
        "--bare-as-typed",
        action="store_true",
        help="run the bare commands as an operator's shell does, without the runbook's GOGC "
        "(default: in the runbook's environment, like with like)",
    )
    args = parser.parse_args()
    load = run._load()
    with tempfile.TemporaryDirectory(prefix="runbook-before-after-") as scratch:
        figures = run.bare_pairs(
            Path(scratch),
            args.pairs,
            args.only,
            import_cycle=not args.only,
            candidate=args.before.resolve(),
            bare_as_typed=args.bare_as_typed,
        )
    figures.update(load=load, load_after=run._load())
    bare = figures["bare_seconds"]["raw"]
    after = figures["runbook_seconds"]["raw"]
    before = figures["candidate"]["runbook_seconds"]["raw"]
    ratios = [a / b for a, b in zip(after, before)]
    figures["after_over_before"] = {
        "pair_ratios": [round(r, 3) for r in ratios],
        "median": round(statistics.median(ratios), 3),
    }
    print(f"load average {load['loadavg']} on {load['cpus']} cores (after: {figures['load_after']['loadavg']})")
    print(f"notebooks: {' '.join(args.only) or 'all'}; before: {args.before}; bare: {figures['bare_environment']}")
    print(f"{'pair':<6}{'bare s':>10}{'before s':>10}{'after s':>10}{'after/before':>14}{'after/bare':>12}")
    for index, (b, old, new) in enumerate(zip(bare, before, after), 1):
        print(f"{index:<6}{b:>10.1f}{old:>10.1f}{new:>10.1f}{new / old:>14.3f}{new / b:>12.3f}")
    print(
        f"median after/before {figures['after_over_before']['median']}; after/bare {figures['ratio']['median']:.3f}; "
        f"before/bare {figures['candidate']['ratio']['median']:.3f}"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
