"""One line of the `verify` report (Check), how a check fails when it cannot ask the cluster, and the report as JSON.

Each check (krm_fn/verify/objects.py, metrics.py, logs.py) takes the cluster (`Kube`) and what the
config expects (`Expected`) and returns Checks; none raises for an unhealthy cluster (a kubectl
failure is a failed check with its message). Nothing read from a Secret is ever put in a Check.
"""

from __future__ import annotations

import json

from krm_fn.verify.kube import KubeError


class Check:
    """One line of the report: what was checked, whether it holds, and what to run when it does not."""

    def __init__(self, name: str, ok: bool, detail: str, advice: str = ""):
        self.name, self.ok, self.detail, self.advice = name, ok, detail, advice

    def to_json(self) -> dict:
        return {"check": self.name, "ok": self.ok, "detail": self.detail, "advice": self.advice}


def _failed_call(name: str, err: KubeError, advice: str) -> list[Check]:
    return [Check(name, False, f"could not ask the cluster: {err}", advice)]


def to_json(checks: list[Check]) -> str:
    failed = sum(not c.ok for c in checks)
    return (
        json.dumps(
            {"checks": [c.to_json() for c in checks], "passed": len(checks) - failed, "failed": failed}, indent=2
        )
        + "\n"
    )
