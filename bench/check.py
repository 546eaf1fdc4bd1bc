"""Compare a benchmark result with the targets of issues 5, 11 and 25; exit 1 when one is missed.

    .venv/bin/python bench/check.py [bench/results/latest.json]

Targets are ratios to the `kpt fn eval --exec cat` floor measured in the same run, for the
warm cache (the steady state of a repository rendered again and again) and, since issue 11,
the cold one too (the first run with a new config). Issue 25 tightened them: 2,000 resources
at most 1.1x (warm and cold), 20 resources warm at most 1.35x; 20 cold stays at 1.5x. With
bench/results/container-latest.json (bench/container.py), also the container call against the
container `cat` floor (at most 1.1x since issue 25). This is a
separate command, never a unit test: CI machines are too noisy for timing assertions.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TARGETS = {"eval-warm-2000": 1.1, "eval-warm-20": 1.35, "eval-cold-2000": 1.1, "eval-cold-20": 1.5}
INFO = ("eval-edited-2000", "eval-edited-20")


def targets(cases: dict) -> dict[str, float]:
    """Every case with a target: the block style's names, and the same with an authoring style
    suffix (`eval-warm-20-pyyaml`, ...) when the run measured `--styles`."""
    found = dict(TARGETS)
    for name in cases:
        base = name.rsplit("-", 1)[0]
        if base in TARGETS and name not in TARGETS:
            found[name] = TARGETS[base]
    return found


DEFAULT = Path(__file__).resolve().parent / "results" / "latest.json"


def check(result: dict) -> int:
    """Print one line per target; 0 when all are met."""
    failed = 0
    cases = result["cases"]
    for name, target in targets(cases).items():
        case = cases.get(name)
        size = int(name.split("-")[2])
        if case is None and size not in result.get("sizes", [size]):
            print(f"skip    {name}: size {size} not measured (--sizes)")
            continue
        if case is None:
            print(f"MISSING {name}: not in the result")
            failed += 1
            continue
        ok = case["ratio"] <= target
        failed += not ok
        ours, floor = case["median_s"] * 1000, cases[case["floor"]]["median_s"] * 1000
        print(
            f"{'ok     ' if ok else 'MISSED '} {name}: {case['ratio']:.2f}x the cat floor "
            f"({ours:.0f} ms vs {floor:.0f} ms), target <= {target}x"
        )
    for name in INFO:
        if name in cases:
            print(f"info    {name}: {cases[name]['ratio']:.2f}x the cat floor (no target)")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        print(f"bench/check.py: cannot read {path}: {err}; run bench/run.py first", file=sys.stderr)
        return 2
    failed = check(result)
    container = path.parent / "container-latest.json"
    if not argv and container.is_file():
        import container as container_bench

        failed |= container_bench.check(json.loads(container.read_text()))
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
