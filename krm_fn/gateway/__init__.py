"""A tolerant model of Gateway API objects: hostnames (grammar, wildcard matching) and routes/listeners.

The route rules in krm_fn.checks (hostname, route-overlap, route-attachment, route-backend) read
Gateway API objects through this package and never parse them themselves.
"""
