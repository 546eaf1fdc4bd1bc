"""observability-fn: a KRM function that expands one ObservabilityConfig into a checked observability stack."""

__version__ = "0.1.0"
