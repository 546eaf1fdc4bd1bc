"""Measure before choosing: YAML parsers on the ResourceList of the 2,000-resource package.

    PYTHON bench/yaml_libraries.py [ResourceList.yaml]

Run it with an interpreter that has the candidates (`pip install yaml-rs rapidyaml` into a
scratch venv: they are not dependencies); a missing one is skipped. Without a file it captures
the ResourceList kpt sends for bench/packages.py's 2,000-resource package. Prints CPU medians
of: PyYAML (C loader and dumper), yaml-rs, rapidyaml, json on the same data, the import time
of each library, observability-fn's own split (krm_fn.yaml, what the function really does),
and whether each parser reads the go-yaml v3 scalars the way kpt does.
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import packages

GO_YAML_TYPED = {"a": 1.1, "b": 511, "c": "on", "d": "2001-12-14", "e": 1000.0}  # what go-yaml v3 reads
SCALARS = "a: 1.10\nb: 0777\nc: on\nd: 2001-12-14\ne: 1e3\n"


def cpu(function, reps: int = 5) -> float:
    times = []
    for _ in range(reps):
        start = time.process_time()
        function()
        times.append(time.process_time() - start)
    return statistics.median(times) * 1000


def import_cost(module: str) -> float | None:
    """CPU ms to import `module` in a fresh interpreter (median of 5, byte-compiled first)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    code = f"import time; t = time.process_time(); import {module}; print((time.process_time() - t) * 1000)"
    costs = []
    for _ in range(6):  # the first run writes the .pyc files
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            return None
        costs.append(float(proc.stdout))
    return statistics.median(costs[1:])


def capture() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        pkg = packages.build(Path(tmp) / "p2000", 2000, 200)
        out = Path(tmp) / "rl.yaml"
        tee = Path(tmp) / "tee.sh"
        tee.write_text(f"#!/bin/sh\ntee {out}\n")
        tee.chmod(0o755)
        subprocess.run(
            ["kpt", "fn", "eval", str(pkg), "--exec", str(tee), "--fn-config", str(pkg / "obs.yaml")],
            capture_output=True,
            check=True,
        )
        return out.read_text()


def main(argv: list[str]) -> int:
    text = Path(argv[0]).read_text() if argv else capture()
    print(f"ResourceList: {len(text) / 1e6:.2f} MB, {text.count(chr(10))} lines\n")
    print(f"{'what':44s} {'cpu':>9s}  scalars as go-yaml v3?")
    import yaml

    data = yaml.load(text, Loader=yaml.CSafeLoader)
    rows = [
        (
            "PyYAML CSafeLoader load",
            lambda: yaml.load(text, Loader=yaml.CSafeLoader),
            yaml.load(SCALARS, yaml.CSafeLoader),
        ),
        ("PyYAML CSafeDumper dump", lambda: yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False), None),
        ("json.loads of the same data", lambda: json.loads(json.dumps(data, default=str)), None),
    ]
    try:
        yaml_rs = importlib.import_module("yaml_rs")
        rows.append(("yaml-rs loads", lambda: yaml_rs.loads(text), yaml_rs.loads(SCALARS)))
    except ImportError:
        print("(yaml-rs not installed: skipped)")
    try:
        ryml = importlib.import_module("ryml")
        raw = text.encode()
        rows.append(("rapidyaml parse_in_arena (tree only)", lambda: ryml.parse_in_arena(raw), "text kept"))
    except ImportError:
        print("(rapidyaml not installed: skipped)")
    try:
        from krm_fn import yaml as yamlio

        rows.append(("krm_fn.yaml.split_resource_list", lambda: yamlio.split_resource_list(text), None))
        rows.append(("krm_fn.yaml.load_one (whole list)", lambda: yamlio.load_one(text), yamlio.load_one(SCALARS)))
    except ImportError:
        pass
    for name, function, scalars in rows:
        verdict = ""
        if isinstance(scalars, dict):
            verdict = "yes" if scalars == GO_YAML_TYPED else f"no: {scalars}"
        elif scalars:
            verdict = scalars
        print(f"{name:44s} {cpu(function):7.1f} ms  {verdict}")
    print("\nimport cost (CPU, fresh interpreter):")
    for module in ("yaml", "yaml_rs", "ryml", "json", "krm_fn.yaml"):
        cost = import_cost(module)
        print(f"  {module:20s} {'not installed' if cost is None else f'{cost:6.1f} ms'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
