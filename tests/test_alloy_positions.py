"""Alloy keeps its read positions across a restart: a replay of loki.source.kubernetes' position logic.

No Alloy binary reaches this machine (no registry we use ships one), so the test replays what
Alloy v1.18.1 (the alloy 1.11.1 chart's appVersion) does, step by step from its source:
- the component's data directory is `<--storage.path>/<component id>` and its positions file
  `positions.yml` in it (internal/component/loki/source/kubernetes/kubernetes.go:82-90), written
  every 10 s (SyncPeriod) and on stop;
- a tailer asks the API server for a container's log `sinceTime` its saved position, or from the
  start when there is none (kubetail/tailer.go:163-191; `tail_from_end` is not an argument of
  loki.source.kubernetes), and saves each forwarded line's timestamp (tailer.go:298-299).
`--storage.path` and the volumes come from the generated values, as the chart turns them into the
pod (templates/containers/_agent.yaml:13 and controllers/statefulset.yaml:42-45 at alloy 1.11.1:
helm renders `--storage.path=/var/lib/alloy/data`, a volumeMount `data` there, and the claim
template `data`). A restart keeps what is on a volume and loses the container's own filesystem.
"""

from __future__ import annotations

import datetime
from pathlib import Path, PurePosixPath

import yaml

from krm_fn.components import alloy
from tests.helpers import config_with, load

COMPONENT = "loki.source.kubernetes.pod_logs"
T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def log(seconds: range) -> list[tuple[datetime.datetime, str]]:
    """A container's log as the kubelet keeps it: (timestamp, line)."""
    return [(T0 + datetime.timedelta(seconds=s), f"line {s}") for s in seconds]


class Pod:
    """One incarnation of the Alloy pod: its volumes persist (`volumes`: mount path -> host dir), its own
    filesystem (`rootfs`) is new at every start."""

    def __init__(self, values: dict, volumes: dict[str, Path], rootfs: Path):
        self.storage_path = values["alloy"]["storagePath"]
        claims = {c["metadata"]["name"] for c in values["controller"].get("volumeClaimTemplates", [])}
        mounts = values["alloy"].get("mounts", {}).get("extra", [])
        self.mounts = {m["mountPath"]: volumes[m["name"]] for m in mounts if m["name"] in claims}
        self.rootfs = rootfs

    def path(self, container_path: str) -> Path:
        """Where a path of the container lives: on the volume mounted above it, else in the container's filesystem."""
        target = PurePosixPath(container_path)
        for mount, host in sorted(self.mounts.items(), key=lambda kv: -len(kv[0])):
            if target == PurePosixPath(mount) or PurePosixPath(mount) in target.parents:
                return host / target.relative_to(mount)
        return self.rootfs / target.relative_to("/")

    def tail(self, key: str, entries: list[tuple[datetime.datetime, str]]) -> list[str]:
        """One tailer run: read from the saved position (or the start), forward, save the last timestamp."""
        positions_file = self.path(f"{self.storage_path}/{COMPONENT}/positions.yml")
        saved = yaml.safe_load(positions_file.read_text())["positions"] if positions_file.exists() else {}
        since = datetime.datetime.fromtimestamp(int(saved[key]) / 1e6, datetime.UTC) if key in saved else None
        # sinceTime is a metav1.Time: whole seconds, and the kubelet returns lines at or after it.
        if since is not None:
            since = since.replace(microsecond=0)
        shipped = [line for ts, line in entries if since is None or ts >= since]
        if entries:
            saved[key] = str(int(entries[-1][0].timestamp() * 1e6))
        positions_file.parent.mkdir(parents=True, exist_ok=True)
        positions_file.write_text(yaml.safe_dump({"positions": saved}))
        return shipped


def restart_and_count(values: dict, tmp_path: Path) -> tuple[list[str], list[str]]:
    """Run, restart (a new pod: same volumes, new filesystem), run again with more log; what each run shipped."""
    volumes = {"data": tmp_path / "pvc"}
    volumes["data"].mkdir()
    key = "/apps/web-0:web"
    first = Pod(values, volumes, tmp_path / "rootfs-1").tail(key, log(range(0, 600)))
    second = Pod(values, volumes, tmp_path / "rootfs-2").tail(key, log(range(0, 660)))
    return first, second


def test_after_a_restart_alloy_reads_on_from_where_it_stopped(tmp_path: Path):
    values = alloy.values(load(config_with()))
    first, second = restart_and_count(values, tmp_path)
    assert len(first) == 600
    # Only what came after the last position (and the line at that second, which Loki deduplicates).
    assert second == ["line 599", *(f"line {s}" for s in range(600, 660))]
    assert list((tmp_path / "pvc").rglob("positions.yml"))  # the file is on the claim


def test_control_the_charts_default_storage_path_re_reads_everything(tmp_path: Path):
    """/tmp/alloy, the chart's default (v:62), is in the container's own filesystem: lost with it."""
    values = alloy.values(load(config_with()))
    values["alloy"]["storagePath"] = "/tmp/alloy"
    _, second = restart_and_count(values, tmp_path)
    assert len(second) == 660


def test_the_storage_path_is_on_the_claim_in_every_profile():
    for config in (config_with(), config_with(profile="ha", objectStorage=_OBJECT_STORAGE)):
        values = alloy.values(load(config))
        assert values["controller"]["type"] == "statefulset"
        (claim,) = values["controller"]["volumeClaimTemplates"]
        (mount,) = values["alloy"]["mounts"]["extra"]
        assert mount == {"name": claim["metadata"]["name"], "mountPath": values["alloy"]["storagePath"]}


_OBJECT_STORAGE = {
    "endpoint": "minio.storage.svc:9000",
    "buckets": {"lokiChunks": "loki-chunks", "lokiRuler": "loki-ruler"},
}
