"""Time the function's image under `kpt fn eval --image`, side by side with a `cat` image.

    .venv/bin/python bench/container.py [--reps 9] [--sizes 20] [--also IMAGE ...] [--check]

The floor is a container that does nothing: `cat` in an image built FROM the same base as the
function's (`--base`, default the local base scripts/docker.sh builds), run by kpt exactly as
it runs ours (`docker run --rm -i --network none --user nobody ...`). Every call of the
function's image is a cold start: a fresh container, no validation cache.

* image-cat-N    `kpt fn eval PKG --image CAT --fn-config PKG/obs.yaml`: the container floor
* image-fn-N     the same with the function's image (`--image`, default example.com/observability-fn:dev)
* image-also-K-N the same with each `--also` image (e.g. an older build, to compare)

Rounds are interleaved and rotated as in bench/run.py (whose packages and timing it uses).
Writes bench/results/container-latest.json (and a dated copy) with the image sizes; `--check`
compares the ratio at 20 resources with the target (<= 1.1x, issue 25; 1.2x in issue 11) and
exits 1 on a miss.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import packages
import run as bench

IMAGE = "example.com/observability-fn:dev"
BASE = "localhost/observability-fn-base:bookworm"
CAT_IMAGE = "example.com/krm-cat:bench"
TARGET = ("image-fn-20", 1.1)
FILES = {20: 4, 2000: 200}


def docker(*args: str, stdin: bytes | None = None) -> str:
    proc = subprocess.run(["docker", *args], input=stdin, capture_output=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"bench: docker {' '.join(args)} failed:\n{proc.stderr.decode(errors='replace')[-2000:]}")
    return proc.stdout.decode().strip()


def build_cat_image(base: str) -> None:
    """The floor: `cat` as the entry point, on the function image's base, as the same user."""
    dockerfile = f'FROM {base}\nUSER 65534:65534\nENTRYPOINT ["/bin/cat"]\n'
    docker("build", "-q", "-t", CAT_IMAGE, "-", stdin=dockerfile.encode())


def size_mb(image: str) -> float:
    return round(int(docker("image", "inspect", "-f", "{{.Size}}", image)) / 1e6, 1)


def run(reps: int, sizes: list[int], image: str, also: list[str], base: str) -> dict:
    kpt = bench._find("kpt")
    build_cat_image(base)
    images = {"cat": CAT_IMAGE, "fn": image, **{f"also-{k}": name for k, name in enumerate(also, 1)}}
    with tempfile.TemporaryDirectory(prefix="obsfn-bench-container-") as tmp:
        work = Path(tmp)
        counter = iter(range(1_000_000))
        cases = []
        for size in sizes:
            packages.build(work / f"p{size}", size, FILES[size], name=f"p{size}")
            for label, name in images.items():

                def prepare(size=size, name=name):
                    pkg = work / "runs" / f"p{size}-{next(counter)}"
                    shutil.copytree(work / f"p{size}", pkg)
                    argv = [kpt, "fn", "eval", str(pkg), "--image", name, "--fn-config", str(pkg / "obs.yaml")]
                    return argv, {k: v for k, v in bench.os.environ.items() if k not in bench.DROPPED_ENV}

                floor = None if label == "cat" else f"image-cat-{size}"
                cases.append(bench.Case(f"image-{label}-{size}", prepare, floor))
        bench.time_rounds(cases, reps, work)
    out = bench.summarise(cases)
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "reps": reps,
        "machine": bench.machine(kpt, str(bench.REPO / ".venv" / "bin" / "observability-fn")),
        "images": {
            label: {
                "name": name,
                "id": docker("image", "inspect", "-f", "{{.Id}}", name)[:19],
                "size_mb": size_mb(name),
            }
            for label, name in images.items()
        },
        "base": {"name": base, "size_mb": size_mb(base)},
        "cases": out,
    }


def report(result: dict) -> str:
    lines = [f"{result['reps']} interleaved runs per case; wall-clock medians", ""]
    for label, info in result["images"].items():
        lines.append(f"image {label:8s} {info['name']:45s} {info['size_mb']:6.1f} MB")
    lines.append(f"base           {result['base']['name']:45s} {result['base']['size_mb']:6.1f} MB")
    lines.append("")
    for name, c in result["cases"].items():
        ratio = f"{c['ratio']:.2f}x" if "ratio" in c else ""
        extra = f"{c['extra_s'] * 1000:+.0f} ms" if "extra_s" in c else ""
        lines.append(f"{name:16s} {c['median_s'] * 1000:7.0f} ms {ratio:>9s} {extra:>9s}")
    return "\n".join(lines)


def check(result: dict) -> int:
    name, target = TARGET
    case = result["cases"].get(name)
    if case is None:
        print(f"MISSING {name}: not in the result")
        return 1
    ok = case["ratio"] <= target
    print(f"{'ok     ' if ok else 'MISSED '} {name}: {case['ratio']:.2f}x the container cat floor, target <= {target}x")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=9, help="timed runs per case (default 9)")
    parser.add_argument("--sizes", default="20", help="comma-separated package sizes: 20, 2000 (default 20)")
    parser.add_argument("--image", default=IMAGE, help=f"the function's image (default {IMAGE})")
    parser.add_argument("--also", action="append", default=[], help="another image to time alongside")
    parser.add_argument("--base", default=BASE, help=f"the base of the cat image (default {BASE})")
    parser.add_argument("--check", action="store_true", help="then compare with the target")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    result = run(args.reps, sizes, args.image, args.also, args.base)
    bench.RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2) + "\n"
    stamp = result["date"].replace(":", "").replace("-", "")
    (bench.RESULTS / f"container-{stamp}.json").write_text(text)
    (bench.RESULTS / "container-latest.json").write_text(text)
    print(report(result))
    print(f"\nwritten: {bench.RESULTS / 'container-latest.json'}")
    return check(result) if args.check else 0


if __name__ == "__main__":
    sys.exit(main())
