"""Rule `external-secret`: the stack Secret made by External Secrets (spec.secret.externalSecret).

What the function can see, and checks:
  * every key the stack reads has a source (remoteKey, or a mapping in keys); a mapping for a key
    the stack does not read is a typo that leaves the real key on its default;
  * the store named is in the pipeline when the pipeline holds stores of that kind (a
    ClusterSecretStore anywhere, a SecretStore in spec.namespace, where the ExternalSecret is);
  * refreshInterval: 0 reads the store once and never again; under a minute, every refresh is one
    request per key to the provider (external-secrets v2.9.0
    pkg/controllers/externalsecret/externalsecret_controller_secret.go:132, GetSecret per data entry);
  * no Secret of the stack Secret's name is committed as well (External Secrets owns it).
The SOPS rules (krm_fn/checks/secrets.py, stack_secret.py) leave the stack Secret alone in this
mode: one info line says so. What it cannot see: whether the store holds the keys (only External
Secrets can ask it; `kubectl -n <ns> get externalsecret <name>` shows SecretSyncedError then).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, on_config, result, rule
from krm_fn.checks.stack_secret import is_stack_secret
from krm_fn.components.secret import required_keys
from krm_fn.config import Config, ExternalSecret
from krm_fn.gateway.model import close_match
from krm_fn.results import Result, Severity

RULE = "external-secret"
STORE_GROUP = "external-secrets.io/"
MIN_REFRESH_SECONDS = 60
DEFAULT_REFRESH = "1h"  # the ExternalSecret CRD's default (1h0m0s), external-secrets v2.9.0
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)")
SOPS_RULES = "sops-secret-present, sops-required-keys, sops-encrypted, secret-plaintext"


def seconds(duration: str) -> float:
    """A Go duration (the schema has checked its form) in seconds."""
    return sum(float(number) * _UNITS[unit] for number, unit in _PART.findall(duration))


def _field(name: str) -> str:
    return f"spec.secret.externalSecret.{name}"


def _on_config(config: Config, severity: Severity, message: str, field: str) -> Result:
    return on_config(RULE, severity, message, config, field)


@rule(
    RULE,
    Severity.ERROR,
    "spec.secret.externalSecret: every key the stack reads has a source, the store named exists when the pipeline "
    "has stores, refreshInterval is sane, and no committed Secret competes with the one External Secrets makes",
)
def check_external_secret(ctx: CheckContext) -> Iterator[Result]:
    config = ctx.config
    if config is None or config.external_secret is None:
        return
    spec = config.external_secret
    target = f"Secret {config.namespace}/{config.secret_name}"
    yield _on_config(
        config,
        Severity.INFO,
        f"{target} is made by External Secrets from {spec.store_kind} {spec.store_name} (the generated ExternalSecret "
        f"{config.namespace}/{config.secret_name}); the SOPS rules ({SOPS_RULES}) do not apply to it",
        "spec.secret.externalSecret",
    )
    yield from _sources(config, spec)
    yield from _refresh(config, spec)
    yield from _store(ctx, config, spec)
    for item in ctx.user_objects("Secret"):
        if is_stack_secret(item, config):
            yield result(
                RULE,
                Severity.ERROR,
                f"External Secrets makes {target} (spec.secret.externalSecret) and owns it: this committed copy would "
                "overwrite its values on every apply, and External Secrets would refuse to adopt it; delete this file, "
                "or remove spec.secret.externalSecret to keep the Secret in git (SOPS-encrypted)",
                item,
            )


def _sources(config: Config, spec: ExternalSecret) -> Iterator[Result]:
    wanted = required_keys(config)
    for key, reader in wanted.items():
        if spec.source(key) is None:
            yield _on_config(
                config,
                Severity.ERROR,
                f"key {key!r} ({reader} reads it) has no source in the store: set spec.secret.externalSecret.remoteKey "
                f"(the item holding the stack's keys), or map it: keys: {{{key}: {{key: <item>, property: <field>}}}}",
                _field("keys"),
            )
    for key in spec.keys:
        if key not in wanted:
            near = close_match(key, list(wanted), cutoff=0.6)
            hint = f"; did you mean {near!r}?" if near else f" (it reads: {', '.join(wanted)})"
            yield _on_config(
                config,
                Severity.WARNING,
                f"the stack reads no key {key!r} from its Secret, so this mapping is unused{hint}",
                f"{_field('keys')}.{key}",
            )


def _refresh(config: Config, spec: ExternalSecret) -> Iterator[Result]:
    interval = seconds(spec.refresh_interval)
    if interval == 0:
        yield _on_config(
            config,
            Severity.WARNING,
            "refreshInterval 0 makes External Secrets read the store once and never again: a rotated Pushover "
            f"token or Grafana password would never reach the cluster; use {DEFAULT_REFRESH} (the default)",
            _field("refreshInterval"),
        )
    elif interval < MIN_REFRESH_SECONDS:
        count = len(required_keys(config))
        yield _on_config(
            config,
            Severity.WARNING,
            f"refreshInterval {spec.refresh_interval} makes External Secrets ask the store for each of the {count} "
            f"keys every {spec.refresh_interval} ({round(count * 3600 / interval)} requests an hour), which "
            f"providers meter and throttle; the credentials change rarely: use {DEFAULT_REFRESH} (the default)",
            _field("refreshInterval"),
        )


def _store(ctx: CheckContext, config: Config, spec: ExternalSecret) -> Iterator[Result]:
    stores = [item for item in ctx.user_objects(spec.store_kind) if (item.api_version or "").startswith(STORE_GROUP)]
    if not stores:
        return  # kept in another build or repository: nothing to compare with
    namespaced = spec.store_kind == "SecretStore"
    usable = [s for s in stores if not namespaced or s.namespace in (config.namespace, None)]
    if any(s.name == spec.store_name for s in usable):
        return
    elsewhere = sorted(f"{s.namespace}/{s.name}" for s in stores if s.name == spec.store_name and namespaced)
    if elsewhere:
        problem = (
            f"the SecretStore {spec.store_name} is in namespace {', '.join(s.split('/')[0] for s in elsewhere)}, "
            f"but an ExternalSecret reads a SecretStore of its own namespace ({config.namespace}): move it, "
            "or use a ClusterSecretStore"
        )
    else:
        names = sorted({s.name or "" for s in usable})
        near = close_match(spec.store_name, names, cutoff=0.6)
        hint = f"did you mean {near!r}?" if near else f"the pipeline has {', '.join(names) or 'none usable'}"
        problem = f"no {spec.store_kind} named {spec.store_name!r} is in the pipeline ({hint})"
    # Seen whole by `check` (a cluster's every build): an error. A kustomization may hold some stores and
    # not this one, which can live in another build: a warning.
    severity = Severity.ERROR if ctx.check_all_kinds else Severity.WARNING
    yield _on_config(
        config,
        severity,
        f"{problem}; External Secrets would report SecretSyncedError and never make Secret "
        f"{config.namespace}/{config.secret_name}",
        _field("storeRef.name"),
    )
