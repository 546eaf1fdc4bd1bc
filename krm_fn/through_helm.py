"""`observability-fn render --through-helm`: what the cluster gets from the stack, not what we write.

The stack's own objects that Flux applies as they are (routes, ConfigMaps, the Flux Alert, ...)
are printed first, then, for each HelmRelease, what `helm template` renders from its chart and
values (krm_fn/helm.py). HelmRepository, OCIRepository and HelmRelease objects are replaced by
what they render to. The output is the input of `kubectl apply --dry-run=server`, kubeconform, a
policy engine, or a diff between two branches.
"""

from __future__ import annotations

from pathlib import Path

from krm_fn import config as config_model
from krm_fn import helm
from krm_fn.protocol import Outcome, stderr_lines
from krm_fn.render import Failed, RenderError, document, render_items

FLUX_HELM_KINDS = ("HelmRelease", *helm.SOURCE_KINDS)


def run(paths: list[str], charts: list[str], helm_path: str | None, offline: bool) -> Outcome:
    """Render the stack, then each HelmRelease through helm; everything to stdout."""
    try:
        items, results, config_obj = render_items(paths, None)
        config, _ = config_model.load(config_obj)  # valid: the engine rendered it
        rendered = helm.render_stack(
            [item.data for item in items if item.kind in FLUX_HELM_KINDS],
            config.kubernetes_version,
            [Path(c) for c in charts],
            helm.helm_binary(helm_path),
            None if offline else helm.default_cache(),
        )
    except (RenderError, helm.HelmError) as err:
        return Outcome("", f"observability-fn render: {err}\n", 1)
    except Failed as failed:
        return Outcome("", stderr_lines(failed.results), 1)
    own = [document(item, header=False) for item in items if item.kind not in FLUX_HELM_KINDS]
    return Outcome(compose(own, rendered), stderr_lines(results), 0)


def compose(own: list[str], rendered: list[helm.RenderedRelease]) -> str:
    """The output: the stack's own documents, then each HelmRelease's render under a comment naming
    it and its chart (`observability-fn diff` reads these comments)."""
    parts = list(own)
    for release in rendered:
        meta = release.release["metadata"]
        header = f"# HelmRelease {meta.get('namespace')}/{meta['name']}: {release.chart}\n"
        body = release.text.lstrip("-\n")
        parts.append(header + body.replace("\n---\n", f"\n---\n# HelmRelease {meta.get('namespace')}/{meta['name']}\n"))
    return "---\n".join(parts)
