"""What the cluster gets: each HelmRelease of a stack rendered by real `helm template`, the way
Flux's helm-controller renders it (release name, namespace, values, the Kubernetes version).

helm-controller installs with the cluster's discovery; `helm template` has none, so the API
versions the stack itself installs (prometheus-operator's CRDs) and the Gateway API are passed
with `--api-versions`: the charts create their ServiceMonitors and HTTPRoutes only when the
cluster serves them (`.Capabilities.APIVersions.Has`). CRDs are not rendered (`--include-crds` is
off): Flux applies them from the chart's crds/ as they are.

Charts come from a local directory (`<dir>/<chart>-<version>/<chart>/`, `<dir>/<chart>-<version>/`
or `<dir>/<chart>/` holding that version's Chart.yaml), or are pulled with `helm pull` from the
repository the HelmRelease names into a cache directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from krm_fn.plain import plain_copy

# API versions a cluster running the stack serves beyond the built-in ones: prometheus-operator's
# CRDs (installed by kube-prometheus-stack), Alloy's PodLogs, and the Gateway API the routes need.
STACK_API_VERSIONS = (
    "monitoring.coreos.com/v1",
    "monitoring.coreos.com/v1alpha1",
    "monitoring.grafana.com/v1alpha2",
    "gateway.networking.k8s.io/v1",
)


class HelmError(Exception):
    """One line saying what failed and how to fix it."""


class ChartRef:
    """Which chart release a HelmRelease installs, and from where."""

    def __init__(self, name: str, version: str, repository: str):
        self.name = name
        self.version = version
        self.repository = repository  # https://... index, or oci://registry/path (without the chart name)

    def __repr__(self) -> str:
        return f"{self.name}@{self.version} from {self.repository}"


def chart_ref(release: dict, sources: dict[tuple[str, str, str], dict]) -> ChartRef:
    """The chart of a HelmRelease (spec.chart with a HelmRepository, or spec.chartRef to an OCIRepository)."""
    spec = release["spec"]
    namespace = release["metadata"].get("namespace", "")
    name = release["metadata"]["name"]
    if "chartRef" in spec:
        ref = spec["chartRef"]
        source = sources.get((ref["kind"], ref.get("namespace", namespace), ref["name"]))
        if source is None:
            raise HelmError(f"HelmRelease {namespace}/{name}: {ref['kind']} {ref['name']} is not in the stack")
        url = source["spec"]["url"]
        chart = url.rstrip("/").rsplit("/", 1)
        return ChartRef(chart[1], str(source["spec"]["ref"]["tag"]), chart[0])
    chart = spec["chart"]["spec"]
    ref = chart["sourceRef"]
    source = sources.get((ref["kind"], ref.get("namespace", namespace), ref["name"]))
    if source is None:
        raise HelmError(f"HelmRelease {namespace}/{name}: {ref['kind']} {ref['name']} is not in the stack")
    return ChartRef(chart["chart"], str(chart["version"]), source["spec"]["url"].rstrip("/"))


def find_chart(ref: ChartRef, chart_dirs: list[Path]) -> Path | None:
    """A local directory holding exactly this chart release, if any."""
    for base in chart_dirs:
        for candidate in (base / f"{ref.name}-{ref.version}" / ref.name, base / f"{ref.name}-{ref.version}", base):
            if _chart_version(candidate) == (ref.name, ref.version):
                return candidate
        nested = base / ref.name
        if _chart_version(nested) == (ref.name, ref.version):
            return nested
    return None


def _chart_version(path: Path) -> tuple[str, str] | None:
    meta = path / "Chart.yaml"
    if not meta.is_file():
        return None
    name = version = None
    for line in meta.read_text().splitlines():  # top-level keys only: no YAML loader needed
        if line.startswith("name:"):
            name = line.split(":", 1)[1].strip().strip("'\"")
        elif line.startswith("version:"):
            version = line.split(":", 1)[1].strip().strip("'\"")
    return (name, version) if name and version else None


def pull_chart(ref: ChartRef, cache: Path, helm: str) -> Path:
    """`helm pull` the release into the cache (once) and return its unpacked directory."""
    target = cache / f"{ref.name}-{ref.version}"
    if _chart_version(target / ref.name) == (ref.name, ref.version):
        return target / ref.name
    cache.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=cache)
    try:
        if ref.repository.startswith("oci://"):
            argv = [helm, "pull", f"{ref.repository}/{ref.name}", "--version", ref.version]
        else:
            argv = [helm, "pull", ref.name, "--repo", ref.repository, "--version", ref.version]
        proc = subprocess.run([*argv, "--untar", "--untardir", tmp], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            why = _why(proc.stderr)
            raise HelmError(
                f"helm pull {ref}: {why}; give a local copy with --charts DIR ({ref.name}-{ref.version}/{ref.name}/)"
            )
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target / ref.name


def template(
    release: dict,
    chart: Path,
    helm: str,
    kube_version: str,
    api_versions: tuple[str, ...] = STACK_API_VERSIONS,
) -> str:
    """`helm template` of one HelmRelease: its release name, namespace and values."""
    spec = release["spec"]
    meta = release["metadata"]
    namespace = spec.get("targetNamespace") or meta.get("namespace") or "default"
    name = spec.get("releaseName") or (
        f"{spec['targetNamespace']}-{meta['name']}" if spec.get("targetNamespace") else meta["name"]
    )
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as values:
        json.dump(plain_copy(spec.get("values") or {}), values)  # JSON is YAML: no dumper needed
    try:
        argv = [helm, "template", name, str(chart), "--namespace", namespace, "--values", values.name]
        # A cluster reports a patch release (v1.32.4); charts compare with semverCompare.
        argv += ["--kube-version", kube_version if kube_version.count(".") >= 2 else f"{kube_version}.0"]
        for api in api_versions:
            argv += ["--api-versions", api]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    finally:
        os.unlink(values.name)
    if proc.returncode != 0:
        why = _why(proc.stderr)
        raise HelmError(f"helm template of HelmRelease {meta.get('namespace')}/{meta['name']} failed: {why}")
    return proc.stdout


def _why(stderr: str) -> str:
    """helm's own error line (`Error: ...`), without the prefix; else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    error = next((line for line in lines if line.startswith("Error:")), lines[-1] if lines else "no output")
    return error.removeprefix("Error:").strip()


def helm_binary(explicit: str | None = None) -> str:
    """The helm to run: --helm, $HELM, the project's .tools/bin/helm, or helm on PATH."""
    for candidate in (explicit, os.environ.get("HELM")):
        if candidate:
            return candidate
    local = Path(__file__).resolve().parent.parent / ".tools" / "bin" / "helm"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which("helm")
    if not found:
        raise HelmError("helm not found: install helm v4 (or v3.8+) on PATH, or pass --helm PATH")
    return found


class RenderedRelease:
    """One HelmRelease and what helm rendered from it."""

    def __init__(self, release: dict, chart: ChartRef, text: str):
        self.release = release
        self.chart = chart
        self.text = text

    @property
    def name(self) -> str:
        return self.release["metadata"]["name"]


SOURCE_KINDS = ("HelmRepository", "OCIRepository")


def render_stack(
    objects: list[dict],
    kube_version: str,
    chart_dirs: list[Path],
    helm: str,
    cache: Path | None = None,
) -> list[RenderedRelease]:
    """Every HelmRelease among `objects` rendered by helm, in order; charts local or pulled into `cache`."""
    sources = {
        (obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]): obj
        for obj in objects
        if obj.get("kind") in SOURCE_KINDS
    }
    out = []
    for obj in objects:
        if obj.get("kind") != "HelmRelease":
            continue
        ref = chart_ref(obj, sources)
        chart = find_chart(ref, chart_dirs)
        if chart is None:
            if cache is None:
                where = ", ".join(map(str, chart_dirs)) or "no --charts directory"
                raise HelmError(
                    f"no local copy of {ref} in {where}; give one with --charts DIR "
                    f"(DIR/{ref.name}-{ref.version}/{ref.name}/Chart.yaml) or drop --offline to pull it"
                )
            chart = pull_chart(ref, cache, helm)
        out.append(RenderedRelease(obj, ref, template(obj, chart, helm, kube_version)))
    return out


def default_cache() -> Path:
    """Where pulled charts are kept: $XDG_CACHE_HOME/observability-fn/charts."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "observability-fn" / "charts"
