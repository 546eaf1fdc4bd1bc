"""Reading a repository the way Flux and kustomize do, for `observability-fn check`.

Imports run one way: sourceignore, objects -> reader -> listing, kustomization -> flux, unbuilt
-> walker.

* `reader`: each file read and split once; exclusions; findings about the layout.
* `listing`: which files, and the source root.
* `kustomization`: one kustomize build of a directory (resources, components, patches checked as
  patches, generators' inputs as data, `namespace:` applied).
* `flux`: Flux `Kustomization` objects (spec.path, components, targetNamespace, postBuild
  substitution) and which sources are this repository.
* `unbuilt`: what no Flux Kustomization builds, reported once with why.
* `walker`: the whole tree: one group per cluster, as Flux builds it.
"""

from krm_fn.repo.walker import Group, Repository, walk

__all__ = ["Group", "Repository", "walk"]
