"""Container mode: kustomize and kpt run the image `example.com/observability-fn:dev` themselves;
and a fresh clone builds with a plain `docker build`.

kustomize runs `docker run --rm -i --network none --user nobody --security-opt=no-new-privileges`
(no --enable-exec needed, so kubectl's embedded kustomize can use it); kpt does the same with
`--pull missing`, and rewrites a bare image name to gcr.io/kpt-fn/..., hence the registry-like
name. The image is built from the working tree by `scripts/docker.sh image`; when a comparison
with the venv's own output fails locally, rebuild it first.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

from krm_fn import engine
from tests.helpers import (
    DEFAULT_CONFIG_FILE,
    REPO,
    UPSTREAM,
    canonical,
    default_config,
    kptfile,
    objects,
    resource_list,
    run_cli,
    tree,
)
from tests.tools import IMAGE, docker_ready, missing, tool

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

SECRET_FILE = UPSTREAM / "sops" / "monitoring-secrets.enc.yaml"
PLAIN_SECRET_FILE = UPSTREAM / "sops" / "monitoring-secrets.plain.yaml"
STALE = "the container's output differs from the venv's: rebuild the image with `scripts/docker.sh image`"
KPTFILE = kptfile(f"image: {IMAGE}")


@pytest.fixture(autouse=True)
def _docker() -> None:
    docker_ready()


def render(*paths: Path) -> list[dict]:
    proc = run_cli("render", *map(str, paths))
    assert proc.returncode == 0, proc.stderr.decode()
    return objects(proc.stdout.decode())


def run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=300, check=False)


def container_kustomization(root: Path, field: str, resources: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    config = default_config()
    config["metadata"]["annotations"]["config.kubernetes.io/function"] = yaml.safe_dump({"container": {"image": IMAGE}})
    (root / "observability.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    for name, text in resources.items():
        (root / name).write_text(text)
    kustomization = {"resources": sorted(resources), field: ["observability.yaml"]}
    (root / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
    return root


def test_kubectl_kustomize_runs_the_container_as_a_transformer(tmp_path: Path) -> None:
    root = container_kustomization(tmp_path / "k", "transformers", {"secret.yaml": SECRET_FILE.read_text()})
    proc = run([tool("kubectl"), "kustomize", "--enable-alpha-plugins", str(root)])
    assert proc.returncode == 0, proc.stderr
    assert canonical(objects(proc.stdout)) == canonical(render(DEFAULT_CONFIG_FILE, SECRET_FILE)), STALE


def test_kubectl_kustomize_container_fails_on_a_plaintext_secret(tmp_path: Path) -> None:
    root = container_kustomization(tmp_path / "k", "transformers", {"secret.yaml": PLAIN_SECRET_FILE.read_text()})
    proc = run([tool("kubectl"), "kustomize", "--enable-alpha-plugins", str(root)])
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert "error [" in proc.stderr and "Secret monitoring/monitoring-secrets" in proc.stderr


def test_standalone_kustomize_runs_the_container_as_a_generator(tmp_path: Path) -> None:
    root = container_kustomization(tmp_path / "k", "generators", {})
    proc = run([tool("kustomize"), "build", "--enable-alpha-plugins", str(root)])
    assert proc.returncode == 0, proc.stderr
    assert canonical(objects(proc.stdout)) == canonical(render(DEFAULT_CONFIG_FILE)), STALE


def make_package(root: Path, kptfile: bool) -> Path:
    root.mkdir(parents=True)
    shutil.copy(DEFAULT_CONFIG_FILE, root / "observability.yaml")
    shutil.copy(SECRET_FILE, root / "monitoring-secrets.enc.yaml")
    if kptfile:
        (root / "Kptfile").write_text(KPTFILE)
    return root


def expected_generated_files() -> set[str]:
    name = yaml.safe_load(DEFAULT_CONFIG_FILE.read_text())["metadata"]["name"]
    return {f"generated/{engine.stack_file_name(name)}"}


def test_kpt_fn_eval_with_the_image(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "pkg", kptfile=False)
    before = set(tree(pkg))
    proc = run([tool("kpt"), "fn", "eval", str(pkg), "--image", IMAGE, "--fn-config", str(pkg / "observability.yaml")])
    assert proc.returncode == 0, proc.stderr
    assert set(tree(pkg)) - before == expected_generated_files(), STALE


def test_kpt_fn_render_with_a_kptfile_image_twice(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "pkg", kptfile=True)
    proc = run([tool("kpt"), "fn", "render", str(pkg)])
    assert proc.returncode == 0, proc.stderr
    first = tree(pkg)
    assert set(first) - {"Kptfile", "observability.yaml", "monitoring-secrets.enc.yaml"} == (
        expected_generated_files()
    ), STALE
    proc = run([tool("kpt"), "fn", "render", str(pkg)])
    assert proc.returncode == 0, proc.stderr
    assert tree(pkg) == first


# --- a fresh clone builds with `docker build .` ----------------------------------------------------

BASE_IMAGE = "localhost/observability-fn-base:bookworm"  # scripts/docker.sh base
CLONE_IMAGE = "example.com/observability-fn:clone"
WHEELHOUSE = REPO / "dist" / "wheels"  # scripts/docker.sh image


def simple_index(wheels: Path, root: Path) -> None:
    """A PEP 503 package index (what PyPI serves at /simple/) of the wheels, under `root`."""
    projects: dict[str, list[str]] = {}
    (root / "files").mkdir(parents=True)
    for wheel in sorted(wheels.glob("*.whl")):
        (root / "files" / wheel.name).symlink_to(wheel)
        projects.setdefault(re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower(), []).append(wheel.name)
    (root / "simple").mkdir()
    links = "".join(f'<a href="{name}/">{name}</a>\n' for name in sorted(projects))
    (root / "simple" / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
    for name, files in projects.items():
        (root / "simple" / name).mkdir()
        links = "".join(f'<a href="../../files/{f}">{f}</a>\n' for f in files)
        (root / "simple" / name / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    requested: list[str]

    def log_message(self, format: str, *args: object) -> None:
        self.requested.append(self.path)


def container_output(image: str, stdin: bytes) -> subprocess.CompletedProcess:
    argv = [tool("docker"), "run", "--rm", "-i", "--network", "none", "--user", "nobody", image]
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=120, check=False)


@pytest.mark.slow
def test_a_fresh_clone_builds_with_docker_build_and_a_package_index(tmp_path: Path) -> None:
    """The Dockerfile's default path: the package and its dependencies installed by pip from an
    index inside the build, from a clone with nothing added. Containers here cannot reach PyPI,
    so a PEP 503 index of the wheelhouse on 127.0.0.1 stands in for it (the same PIP_INDEX_URL
    argument a user's mirror would take); `--network host` lets the build reach it."""
    wheels = sorted(WHEELHOUSE.glob("*.whl"))
    if not any(w.name.startswith("setuptools-") for w in wheels):
        missing(f"no wheelhouse with the build backend in {WHEELHOUSE}; run scripts/docker.sh image")
    docker = tool("docker")
    if subprocess.run([docker, "image", "inspect", BASE_IMAGE], capture_output=True, check=False).returncode:
        missing(f"no {BASE_IMAGE}; run scripts/docker.sh base")
    clone = tmp_path / "clone"
    for argv in (
        ["git", "init", "-q", str(clone)],
        ["git", "-C", str(clone), "fetch", "-q", "--depth", "1", f"file://{REPO}", "HEAD"],
        ["git", "-C", str(clone), "checkout", "-q", "FETCH_HEAD"],
    ):
        subprocess.run(argv, check=True, capture_output=True, timeout=120)
    assert not (clone / "dist").exists()

    simple_index(WHEELHOUSE, tmp_path / "index")
    handler = type("Handler", (_Quiet,), {"requested": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=tmp_path / "index"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        argv = [docker, "build", "--network", "host", "--build-arg", f"BASE={BASE_IMAGE}"]
        argv += ["--build-arg", f"PIP_INDEX_URL=http://127.0.0.1:{server.server_port}/simple/"]
        proc = run([*argv, "-t", CLONE_IMAGE, str(clone)])
    finally:
        server.shutdown()
        server.server_close()
    try:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        # pip found the build backend and every dependency on the index.
        assert {"/simple/setuptools/", "/simple/jsonschema/", "/simple/pyyaml/"} <= set(handler.requested)
        stdin = resource_list([yaml.safe_load(SECRET_FILE.read_text())], default_config())
        ours, theirs = container_output(CLONE_IMAGE, stdin), container_output(IMAGE, stdin)
        assert ours.returncode == 0, ours.stderr.decode()
        assert ours.stdout == theirs.stdout, "the clone's image and the wheelhouse image differ; " + STALE
        user = subprocess.run(
            [docker, "image", "inspect", "-f", "{{.Config.User}}", CLONE_IMAGE], capture_output=True, text=True
        )
        assert user.stdout.strip() == "65534:65534"
    finally:
        subprocess.run([docker, "image", "rm", "-f", CLONE_IMAGE], capture_output=True, check=False)
        subprocess.run([docker, "image", "prune", "-f"], capture_output=True, check=False)


KEPT_SCRIPT = """
import json, os, re
from krm_fn import pycache, regex_cache
from krm_fn.charts import paths

names = sorted(os.listdir(pycache.DIRECTORY))
trees = [n.split(".cpython")[0] for n in names if n.startswith("values-")]
read = [pycache.load(t, paths.data_fingerprint(t[len("values-"):].rsplit("-", 1)[0])) is not None for t in trees]
regex_cache.install()
re.compile("(?P<a>x)+y")
print(json.dumps({"names": names, "patterns": len(regex_cache._state["table"]), "trees_read": read}))
"""


def test_the_image_carries_what_a_run_keeps_next_to_the_bytecode() -> None:
    """The build's priming run left the compiled regexes, the Kubernetes definitions and the default
    charts' values trees (krm_fn/pycache.py), and the function, as uid 65534 on a read-only /opt, reads
    them: each entry's identity (interpreter, file size and mtime) still matches in the final stage."""
    python = "/opt/observability-fn/bin/python"
    argv = ["docker", "run", "--rm", "--network", "none", "--user", "65534:65534", "--entrypoint", python, IMAGE]
    proc = run([*argv, "-c", KEPT_SCRIPT])
    assert proc.returncode == 0, proc.stderr
    found = yaml.safe_load(proc.stdout)
    kinds = {name.split("-")[0].split(".")[0] for name in found["names"] if name.endswith(".bin")}
    assert {"re", "k8s", "values"} <= kinds, found["names"]
    assert found["patterns"] > 50
    assert found["trees_read"] and all(found["trees_read"])
