"""Time observability-fn inside its consumers, side by side with the floor (`--exec cat`).

    .venv/bin/python bench/run.py [--reps 7] [--fn PATH] [--check] [--styles block,pyyaml,...|all] [--sizes 20,2000]

Builds two kpt packages (20 resources in 4 files; 2,000 resources in 200 files), then runs
every case once per round, rounds interleaved so that machine noise hits all cases alike:

* eval-cat-N       `kpt fn eval PKG --exec /usr/bin/cat --fn-config PKG/obs.yaml`: kpt's own cost
* eval-cold-N      the same with `--exec observability-fn`, an empty validation cache every run
* eval-warm-N      the same with a cache primed by an untimed run (krm_fn/cache.py): the
                   same package every time, as when a repository is rendered again unchanged
* eval-edited-N    warm cache, but one file of the package gets a new comment before each run
* check-2000       `observability-fn check PKG` over the 2,000-resource tree (warm cache)
* render-default   `observability-fn render function-config/observability.yaml` (warm cache)

`--styles` adds the same packages in other authoring styles (bench/packages.py STYLES:
PyYAML-dumped, kubectl-generated, Helm-rendered, hand-written with comments), each with its
own floor measured in the same rounds: eval-cat-N-STYLE, eval-cold-N-STYLE, eval-warm-N-STYLE.

`kpt fn eval` writes in place, so each eval gets a fresh copy of its package (copying is
not timed). Prints medians, the ratio of each eval case to its floor, the machine, and
writes the whole result as JSON to bench/results/ (`latest.json` and a dated copy).
`--check` then compares the ratios with the targets (bench/check.py) and exits 1 on a miss.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import packages

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
SIZES = {20: 4, 2000: 200}  # resources -> files


def _find(name: str) -> str:
    local = REPO / ".tools" / "bin" / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    if not found:
        sys.exit(f"bench: {name} not found in .tools/bin or on PATH")
    return os.path.abspath(found)


def _interpreter(script: str) -> str:
    """The interpreter a console script starts (its shebang)."""
    with open(script, "rb") as handle:
        first = handle.readline().decode(errors="replace").strip()
    return first[2:].strip() if first.startswith("#!") else "(no shebang)"


def machine(kpt: str, fn: str) -> dict:
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    interpreter = _interpreter(fn)
    python = subprocess.run(
        [interpreter.split()[0], "-c", "import sys; print(sys.version.split()[0], sys.executable)"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    kpt_version = subprocess.run([kpt, "version"], capture_output=True, text=True, check=False).stdout.strip()
    commit = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": python,
        "function": fn,
        "function_interpreter": interpreter,
        "pyenv_shim_in_exec_path": "shims" in interpreter,
        "kpt": kpt_version,
        "commit": commit,
    }


class Case:
    """One command to time; `prepare` (untimed) returns the argv and the env for one run."""

    def __init__(self, name: str, prepare, floor: str | None = None):
        self.name = name
        self.prepare = prepare
        self.floor = floor
        self.wall: list[float] = []
        self.cpu: list[float] = []


def _timed(argv: list[str], env: dict, cwd: Path) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds of the process tree, exit code, stderr tail)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, proc.returncode, err[-2000:]


# Variables that would change what is measured: the cache switches, and PYTHONDONTWRITEBYTECODE
# (a sandbox may set it; then every run recompiles whatever module changed since its last .pyc).
DROPPED_ENV = ("OBSERVABILITY_FN_CACHE", "OBSERVABILITY_FN_CACHE_DIR", "PYTHONDONTWRITEBYTECODE")


def _package(size: int, style: str) -> str:
    return f"p{size}" if style == "block" else f"p{size}-{style}"


def build_cases(
    work: Path, kpt: str, fn: str, styles: tuple[str, ...] = ("block",), sizes: tuple[int, ...] = tuple(SIZES)
) -> list[Case]:
    base_env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    warm_cache = work / "cache-warm"
    counter = iter(range(1_000_000))

    def fresh(package: str) -> Path:
        target = work / "runs" / f"{package}-{next(counter)}"
        shutil.copytree(work / package, target)
        return target

    def eval_case(size: int, exec_path: str, cache: str | None, edit: bool = False, style: str = "block"):
        def prepare():
            pkg = fresh(_package(size, style))
            if edit:  # a changed package: another stdin, so nothing is replayed from an earlier run
                with open(pkg / "apps" / "app000.yaml", "a") as handle:
                    handle.write(f"# edit {next(counter)}\n")
            env = dict(base_env)
            if cache == "cold":
                env["OBSERVABILITY_FN_CACHE_DIR"] = tempfile.mkdtemp(dir=work, prefix="cache-cold-")
            elif cache == "warm":
                env["OBSERVABILITY_FN_CACHE_DIR"] = str(warm_cache)
            return [kpt, "fn", "eval", str(pkg), "--exec", exec_path, "--fn-config", str(pkg / "obs.yaml")], env

        return prepare

    def fn_case(*args: str):
        def prepare():
            return [fn, *args], {**base_env, "OBSERVABILITY_FN_CACHE_DIR": str(warm_cache)}

        return prepare

    cat = shutil.which("cat") or "/bin/cat"
    cases = []
    for size in sizes:
        floor = f"eval-cat-{size}"
        cases.append(Case(floor, eval_case(size, cat, None)))
        cases.append(Case(f"eval-cold-{size}", eval_case(size, fn, "cold"), floor))
        cases.append(Case(f"eval-warm-{size}", eval_case(size, fn, "warm"), floor))
        cases.append(Case(f"eval-edited-{size}", eval_case(size, fn, "warm", edit=True), floor))
    if 2000 in sizes:
        cases.append(Case("check-2000", fn_case("check", str(work / "p2000"))))
    cases.append(Case("render-default", fn_case("render", str(REPO / "function-config" / "observability.yaml"))))
    for style in styles:
        if style == "block":
            continue
        for size in sizes:
            floor = f"eval-cat-{size}-{style}"
            cases.append(Case(floor, eval_case(size, cat, None, style=style)))
            cases.append(Case(f"eval-cold-{size}-{style}", eval_case(size, fn, "cold", style=style), floor))
            cases.append(Case(f"eval-warm-{size}-{style}", eval_case(size, fn, "warm", style=style), floor))
    return cases


def time_rounds(cases: list[Case], reps: int, work: Path) -> None:
    """One untimed run of each case (warm caches, the page cache, docker's layers), then `reps`
    interleaved rounds, the order rotating so that no case always runs first."""
    for case in cases:
        _, _, code, err = _timed(*case.prepare(), work)
        if code != 0:
            sys.exit(f"bench: {case.name} failed (exit {code}):\n{err}")
    for rep in range(reps):
        for case in cases[rep % len(cases) :] + cases[: rep % len(cases)]:
            wall, cpu, code, err = _timed(*case.prepare(), work)
            if code != 0:
                sys.exit(f"bench: {case.name} failed (exit {code}):\n{err}")
            case.wall.append(wall)
            case.cpu.append(cpu)
        shutil.rmtree(work / "runs", ignore_errors=True)
        print(f"round {rep + 1}/{reps} done", file=sys.stderr)


def summarise(cases: list[Case]) -> dict[str, dict]:
    """Each case's medians and runs, and its ratio to its floor."""
    medians = {c.name: statistics.median(c.wall) for c in cases}
    out: dict[str, dict] = {}
    for case in cases:
        entry = {
            "median_s": round(medians[case.name], 4),
            "cpu_median_s": round(statistics.median(case.cpu), 4),
            "runs_s": [round(w, 4) for w in case.wall],
        }
        if case.floor:
            entry["floor"] = case.floor
            entry["ratio"] = round(medians[case.name] / medians[case.floor], 3)
            entry["extra_s"] = round(medians[case.name] - medians[case.floor], 4)
        out[case.name] = entry
    return out


def compile_package(fn: str) -> None:
    """Byte-compile the function's package, as `pip install` does, so no run pays for it."""
    python = _interpreter(fn).split()[0]
    code = "import compileall, krm_fn, os; compileall.compile_dir(os.path.dirname(krm_fn.__file__), quiet=1)"
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    subprocess.run([python, "-c", code], env=env, check=True)


def run(reps: int, fn: str, styles: tuple[str, ...] = ("block",), sizes: tuple[int, ...] = tuple(SIZES)) -> dict:
    kpt = _find("kpt")
    info = machine(kpt, fn)
    compile_package(fn)
    if info["pyenv_shim_in_exec_path"]:
        print(f"warning: {fn} starts {info['function_interpreter']}, a pyenv shim (~80 ms each run)", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="obsfn-bench-") as tmp:
        work = Path(tmp)
        for style in dict.fromkeys(("block", *styles)):
            for size in sizes:
                files = SIZES[size]
                packages.build(work / _package(size, style), size, files, name=f"p{size}", style=style)
        cases = build_cases(work, kpt, fn, styles, sizes)
        time_rounds(cases, reps, work)
    out_cases = summarise(cases)
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "reps": reps,
        "styles": list(styles),
        "sizes": list(sizes),
        "machine": info,
        "cases": out_cases,
    }


def report(result: dict) -> str:
    """A human summary of one result."""
    m = result["machine"]
    lines = [
        f"machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}; kpt {m['kpt']}; commit {m['commit']}",
        f"function: {m['function']} (interpreter {m['function_interpreter']})",
        f"{result['reps']} interleaved runs per case; wall-clock medians",
        "",
        f"{'case':26s} {'median':>9s} {'cpu':>9s} {'vs floor':>9s} {'extra':>9s}",
    ]
    for name, c in result["cases"].items():
        ratio = f"{c['ratio']:.2f}x" if "ratio" in c else ""
        extra = f"{c['extra_s'] * 1000:+.0f} ms" if "extra_s" in c else ""
        lines.append(
            f"{name:26s} {c['median_s'] * 1000:7.0f} ms {c['cpu_median_s'] * 1000:6.0f} ms {ratio:>9s} {extra:>9s}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=7, help="timed runs per case (default 7)")
    parser.add_argument("--fn", default=str(REPO / ".venv" / "bin" / "observability-fn"), help="the function")
    parser.add_argument("--check", action="store_true", help="then compare with the targets (bench/check.py)")
    parser.add_argument(
        "--styles", default="block", help=f"authoring styles, comma-separated or 'all' ({', '.join(packages.STYLES)})"
    )
    parser.add_argument("--sizes", default="20,2000", help="package sizes, comma-separated (default 20,2000)")
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    if any(s not in SIZES for s in sizes):
        parser.error(f"--sizes: one of {', '.join(map(str, SIZES))}")
    styles = tuple(packages.STYLES) if args.styles == "all" else tuple(args.styles.split(","))
    unknown = [s for s in styles if s not in packages.STYLES]
    if unknown:
        parser.error(f"unknown style(s): {', '.join(unknown)}")
    result = run(args.reps, os.path.abspath(args.fn), styles, sizes)
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2) + "\n"
    stamp = result["date"].replace(":", "").replace("-", "")
    (RESULTS / f"bench-{stamp}.json").write_text(text)
    (RESULTS / "latest.json").write_text(text)
    print(report(result))
    print(f"\nwritten: {RESULTS / 'latest.json'}")
    if args.check:
        import check

        return check.check(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
