"""Reading a repository the way Flux and kustomize do, for `observability-fn check`.

* `kustomization`: one kustomize build of a directory (resources, components, patches checked as
  patches, generators' inputs as data, `namespace:` applied).
* `flux`: Flux `Kustomization` objects (spec.path, targetNamespace, postBuild substitution).
* `walker`: the whole tree: which builds exist, which objects go together (one group per cluster
  that Flux ties together), and what is left over (checked if it is Kubernetes objects, counted
  if it is not).
"""

from krm_fn.repo.walker import Group, Repository, walk

__all__ = ["Group", "Repository", "walk"]
