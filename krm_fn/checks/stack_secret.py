"""Rules: the stack Secret (`spec.secret.name` in `spec.namespace`) is in the pipeline and holds the keys it must.

Not when External Secrets makes it (spec.secret.externalSecret): the rule `external-secret` checks it
then. What the SOPS rules can see without the key, and what they leave out: krm_fn/checks/secrets.py.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, on_config, result, rule
from krm_fn.checks.secret_values import SECTIONS, _file, _holds_nothing
from krm_fn.components.secret import required_keys
from krm_fn.config import Config
from krm_fn.items import Item
from krm_fn.results import Result, Severity

PRESENT = "sops-secret-present"
REQUIRED_KEYS = "sops-required-keys"

HASH_ANNOTATION = "internal.config.kubernetes.io/needsHashSuffix"  # kustomize will append -<hash> to the name
NEWLINE_NOTE = (
    "values must not end in a newline (Pushover answers HTTP 400 to a key file with one), "
    "so write them as plain scalars, not `|` blocks"
)


def is_stack_secret(item: Item, config: Config) -> bool:
    """Is `item` the stack Secret the config names (a Secret with no namespace gets the stack's)?"""
    return item.name == config.secret_name and item.namespace in (config.namespace, None)


def external_made(config: Config | None) -> bool:
    """External Secrets makes the stack Secret (spec.secret.externalSecret): the rule `external-secret`
    checks it, and these rules leave it alone."""
    return config is not None and config.external_secret is not None


def _stack_secrets(ctx: CheckContext) -> list[Item]:
    if ctx.config is None or external_made(ctx.config):
        return []
    return [item for item in ctx.user_objects("Secret") if is_stack_secret(item, ctx.config)]


@rule(PRESENT, Severity.ERROR, "the stack's Secret (spec.secret.name in spec.namespace) is in the pipeline")
def secret_present(ctx: CheckContext) -> Iterator[Result]:
    """The stack Secret is in the pipeline, under its own name and namespace."""
    config = ctx.config
    if config is None or external_made(config):
        return
    wanted = f"Secret {config.namespace}/{config.secret_name}"
    if not ctx.sees_pipeline:
        yield _config_result(
            PRESENT,
            Severity.INFO,
            config,
            f"{wanted} could not be checked: the function saw only its config (kustomize `generators:`, or "
            "`render` given the config alone); list it under `transformers:`, or pass the Secret's file to render",
        )
        return
    found = _stack_secrets(ctx)
    for item in found:
        if item.annotations().get(HASH_ANNOTATION) == "enabled":
            yield result(
                PRESENT,
                Severity.WARNING,
                f"comes from a kustomize secretGenerator that will rename it to {config.secret_name}-<hash>, "
                f"while the HelmReleases read {config.secret_name}: set `options: {{disableNameSuffixHash: true}}` "
                "on the generator",
                item,
                ["metadata", "name"],
            )
        if item.namespace is None:
            yield result(
                PRESENT,
                Severity.WARNING,
                f"has no metadata.namespace but the stack reads it from namespace {config.namespace}: "
                f"set the namespace through the kustomization (`namespace: {config.namespace}`) or add it "
                "before encrypting (the sops MAC covers metadata)",
                item,
                ["metadata"],
            )
    if found:
        return
    elsewhere = sorted(
        item.namespace or "(none)" for item in ctx.user_objects("Secret") if item.name == config.secret_name
    )
    hint = f"; a Secret of that name is in namespace {', '.join(elsewhere)}" if elsewhere else ""
    yield _config_result(
        PRESENT,
        Severity.ERROR,
        config,
        f"{wanted} is not in the pipeline{hint}: the stack reads its Pushover and Grafana credentials from it; "
        "add the SOPS-encrypted Secret to the kustomization or kpt package (or set spec.secret.name)",
    )


def _config_result(rule_id: str, severity: Severity, config: Config, message: str) -> Result:
    return on_config(rule_id, severity, message, config, "spec.secret.name")


@rule(REQUIRED_KEYS, Severity.ERROR, "the stack's Secret holds every key the stack reads, none of them empty")
def secret_required_keys(ctx: CheckContext) -> Iterator[Result]:
    """The stack Secret holds every key the stack reads, none of them empty."""
    if ctx.config is None:
        return
    wanted = required_keys(ctx.config)
    for item in _stack_secrets(ctx):
        sections = {s: item.obj.get(s) for s in SECTIONS if isinstance(item.obj.get(s), dict)}
        where = "stringData" if "stringData" in sections or "data" not in sections else "data"
        for key, reader in wanted.items():
            holders = [s for s, values in sections.items() if key in values]
            if not holders:
                yield result(
                    REQUIRED_KEYS,
                    Severity.ERROR,
                    f"key {key!r} is missing ({reader} reads it); "
                    f"add it with `sops edit {_file(item)}`; {NEWLINE_NOTE}",
                    item,
                    [where, key],
                )
            elif all(_holds_nothing(sections[s][key]) for s in holders):
                yield result(
                    REQUIRED_KEYS,
                    Severity.ERROR,
                    f"key {key!r} is empty ({reader} reads it); set it with `sops edit {_file(item)}`; {NEWLINE_NOTE}",
                    item,
                    [holders[0], key],
                )
