"""Where the fixed cost of one run goes: interpreter start, imports, the work itself.

    .venv/bin/python bench/startup.py [--reps 15] [--fn PATH] [--style block|files|...]

Runs each step as its own process (the way kpt starts the function) and prints the median
CPU time (user + system, from wait4: steadier than wall time on a busy machine) and wall time:
the bare interpreter (with and without `site`), `import re` (with `enum`: every run needs them),
the function's import chain (with the compiled regexes it keeps), and a whole KRM run on a
20-resource ResourceList of the chosen authoring style (bench/packages.py STYLES) with a warm
validation cache and with none (`OBSERVABILITY_FN_CACHE=off`: every object validated, as on a
first run with a new config). Then, for comparison, `import yaml`, which a normal run no longer
pays (issue 25). Also lists the slowest modules of that run from `python -X importtime`.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import packages

REPO = Path(__file__).resolve().parent.parent
COMPILE = "import compileall, krm_fn, os; compileall.compile_dir(os.path.dirname(krm_fn.__file__), quiet=1)"
# What cli.console() does first: compiled regexes from the table kept next to the bytecode (krm_fn/regex_cache.py).
KEPT_REGEXES = "from krm_fn import regex_cache; regex_cache.install()"


def measure(argv: list[str], stdin: bytes, env: dict, reps: int) -> tuple[float, float]:
    """Median (cpu, wall) seconds of running argv `reps` times."""
    cpu, wall = [], []
    for _ in range(reps):
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        proc.stdin.write(stdin)
        proc.stdin.close()
        _, _, usage = os.wait4(proc.pid, 0)
        wall.append(time.perf_counter() - start)
        cpu.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(cpu), statistics.median(wall)


def resource_list(work: Path, style: str = "block") -> bytes:
    """The ResourceList kpt sends for the 20-resource benchmark package (captured through `tee`)."""
    pkg = packages.build(work / "p20", 20, 4, style=style)
    capture = work / "rl.yaml"
    tee = work / "tee.sh"
    tee.write_text(f"#!/bin/sh\ntee {capture}\n")
    tee.chmod(0o755)
    subprocess.run(
        ["kpt", "fn", "eval", str(pkg), "--exec", str(tee), "--fn-config", str(pkg / "obs.yaml")],
        capture_output=True,
        check=True,
    )
    return capture.read_bytes()


def slowest_imports(python: str, fn: str, stdin: bytes, env: dict, top: int = 15) -> list[tuple[int, str]]:
    proc = subprocess.run([python, "-X", "importtime", fn], input=stdin, capture_output=True, env=env, check=False)
    rows = []
    for line in proc.stderr.decode().splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match:
            rows.append((int(match.group(1)), match.group(4)))
    return sorted(rows, reverse=True)[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--fn", default=str(REPO / ".venv" / "bin" / "observability-fn"))
    parser.add_argument("--style", default="block", choices=list(packages.STYLES), help="the package's authoring style")
    args = parser.parse_args()
    with open(args.fn, "rb") as handle:
        python = handle.readline().decode().strip()[2:].split()[0]
    with tempfile.TemporaryDirectory(prefix="obsfn-startup-") as tmp:
        work = Path(tmp)
        stdin = resource_list(work, args.style)
        env = {**os.environ, "OBSERVABILITY_FN_CACHE_DIR": str(work / "cache")}
        env.pop("OBSERVABILITY_FN_CACHE", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # a sandbox may set it: then .pyc files go stale
        subprocess.run([python, "-c", COMPILE], env=env, check=True)
        subprocess.run([args.fn], input=stdin, capture_output=True, env=env, check=False)  # warm the cache
        steps = [
            ("python -S -c pass", [python, "-S", "-c", "pass"], b""),
            ("python -c pass", [python, "-c", "pass"], b""),
            ("python -c 'import re'", [python, "-c", "import re"], b""),
            ("import krm_fn.protocol (kept)", [python, "-c", f"{KEPT_REGEXES}; import krm_fn.protocol"], b""),
            ("KRM run, 20 resources, warm", [args.fn], stdin),
            ("KRM run, 20 resources, cold", [args.fn], stdin, "cold"),
            ("not paid: import yaml (kept)", [python, "-c", f"{KEPT_REGEXES}; import re, yaml"], b""),
        ]
        print(f"{'step':32s} {'cpu':>8s} {'wall':>8s}   ({args.reps} runs, medians)")
        for name, argv, data, *cold in steps:
            cpu, wall = measure(argv, data, {**env, "OBSERVABILITY_FN_CACHE": "off"} if cold else env, args.reps)
            print(f"{name:32s} {cpu * 1000:6.0f} ms {wall * 1000:6.0f} ms")
        print("\nslowest modules (self time, one run of the KRM case):")
        for micros, module in slowest_imports(python, args.fn, stdin, env):
            print(f"  {micros / 1000:6.1f} ms  {module}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
