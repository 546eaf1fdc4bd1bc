"""The Alertmanager configuration (`alertmanager.config` of kube-prometheus-stack).

Facts it rests on (charts.md sections 4 and 5):
- `alertmanager.tplConfig` stays false, so the config reaches Alertmanager verbatim: the
  templates below are plain Alertmanager templates, never Helm-escaped.
- Helm merges maps but replaces lists, so the chart's default inhibit rules are written out
  here rather than inherited by accident.
- Pushover credentials are files from the mounted Secret (`alertmanagerSpec.secrets`); their
  content is sent as is, so the Secret's values must not end in a newline.
- Flux events (notification-controller) carry `severity` error|info, a `message` annotation
  and no `endsAt`: they resolve by themselves after resolve_timeout, so their receiver does
  not send "resolved" notifications.
"""

from __future__ import annotations

import copy

from krm_fn.charts import ALERTMANAGER_SECRETS_DIR
from krm_fn.config import Config, PushoverLevel

NULL = "null"
HEARTBEAT = "heartbeat"
CRITICAL = "pushover-critical"
WARNING = "pushover-warning"
FLUX = "pushover-flux"

# Secret keys the Pushover receivers read (the Secret is the user's; the secret rules check it).
USER_KEY = "pushover-user-key"
API_TOKEN = "pushover-api-token"

# Plain Alertmanager templates (tplConfig is false). `cluster` is on every alert: Prometheus adds
# its external labels, and the Flux Alert's eventMetadata becomes labels of Flux events.
TITLE = '[{{ .CommonLabels.cluster }}] {{ .CommonLabels.alertname }}{{ if eq .Status "resolved" }} (resolved){{ end }}'
# Prometheus rules set `summary`; Flux events only have `message`.
MESSAGE = '{{ range .Alerts }}{{ or .Annotations.summary .Annotations.message }}{{ "\\n" }}{{ end }}'

# The chart's four default inhibit rules (kube-prometheus-stack 82.18.0 values.yaml:546-569), explicit.
INHIBIT_RULES = (
    {
        "source_matchers": ["severity = critical"],
        "target_matchers": ["severity =~ warning|info"],
        "equal": ["namespace", "alertname"],
    },
    {
        "source_matchers": ["severity = warning"],
        "target_matchers": ["severity = info"],
        "equal": ["namespace", "alertname"],
    },
    {
        "source_matchers": ["alertname = InfoInhibitor"],
        "target_matchers": ["severity = info"],
        "equal": ["namespace"],
    },
    {"target_matchers": ["alertname = InfoInhibitor"]},
)

# Every Flux event has this label (the emitting controller, notification-controller
# internal/notifier/alertmanager.go); Prometheus alerts do not, even with severity "error".
FLUX_EVENT = 'reportingcontroller =~ ".+"'


def _route(receiver: str, *matchers: str, **extra: object) -> dict:
    return {"receiver": receiver, "matchers": list(matchers), **extra}


def _watchdog_route(config: Config) -> dict:
    """Watchdog always fires: drop it, or with a heartbeat URL ping it (a dead-man's switch)."""
    heartbeat = config.alerting.heartbeat
    if heartbeat is None:
        return _route(NULL, 'alertname = "Watchdog"')
    return _route(
        HEARTBEAT,
        'alertname = "Watchdog"',
        group_wait="0s",
        group_interval=heartbeat.repeat_interval,
        repeat_interval=heartbeat.repeat_interval,
    )


def routes(config: Config) -> list[dict]:
    """The child routes, first match wins."""
    out = [_watchdog_route(config)]
    if not config.alerting.pushover.enabled:
        return out  # everything else falls to the default receiver, "null"
    out.append(_route(NULL, 'alertname = "InfoInhibitor"'))
    if config.flux.event_severity == "info":
        # Flux info events were asked for: deliver them before info alerts are dropped below.
        out.append(_route(FLUX, "severity = info", FLUX_EVENT))
    out.append(_route(NULL, 'severity =~ "info|none"'))
    out.append(_route(FLUX, "severity = error", FLUX_EVENT))
    out.append(_route(CRITICAL, "severity = critical"))
    out.append(_route(WARNING, "severity = warning"))
    return out


def _pushover(config: Config, level: PushoverLevel, send_resolved: bool = True) -> dict:
    secret_dir = f"{ALERTMANAGER_SECRETS_DIR}/{config.secret_name}"
    entry: dict = {
        "send_resolved": send_resolved,
        "user_key_file": f"{secret_dir}/{USER_KEY}",
        "token_file": f"{secret_dir}/{API_TOKEN}",
        "priority": str(level.priority),  # a template string in Alertmanager's config
        "title": TITLE,
        "message": MESSAGE,
    }
    if level.retry:
        entry["retry"] = level.retry
    if level.expire:
        entry["expire"] = level.expire
    if level.sound:
        entry["sound"] = level.sound
    return entry


def receivers(config: Config) -> list[dict]:
    """ "null", the heartbeat webhook when configured, and the Pushover receivers when enabled."""
    out: list[dict] = [{"name": NULL}]
    if config.alerting.heartbeat is not None:
        # url_file: the URL is a secret, read from the mounted stack Secret (Alertmanager >= 0.28).
        # send_resolved off: a "resolved" Watchdog must never look like a sign of life.
        url_file = f"{ALERTMANAGER_SECRETS_DIR}/{config.secret_name}/{config.alerting.heartbeat.url_key}"
        webhook = {"url_file": url_file, "send_resolved": False}
        out.append({"name": HEARTBEAT, "webhook_configs": [webhook]})
    pushover = config.alerting.pushover
    if pushover.enabled:
        out.append({"name": CRITICAL, "pushover_configs": [_pushover(config, pushover.critical)]})
        out.append({"name": WARNING, "pushover_configs": [_pushover(config, pushover.warning)]})
        out.append({"name": FLUX, "pushover_configs": [_pushover(config, pushover.flux, send_resolved=False)]})
    return out


def alertmanager_config(config: Config) -> dict:
    """The whole `alertmanager.config` map."""
    alerting = config.alerting
    return {
        "global": {"resolve_timeout": alerting.resolve_timeout},
        "inhibit_rules": copy.deepcopy(list(INHIBIT_RULES)),  # no shared objects: YAML would alias them
        "route": {
            "receiver": WARNING if alerting.pushover.enabled else NULL,
            "group_by": list(alerting.group_by),
            "group_wait": alerting.group_wait,
            "group_interval": alerting.group_interval,
            "repeat_interval": alerting.repeat_interval,
            "routes": routes(config),
        },
        "receivers": receivers(config),
    }


def secrets(config: Config) -> list[str]:
    """Secrets to mount into Alertmanager: the stack Secret while Pushover or the heartbeat reads files from it."""
    reads_files = config.alerting.pushover.enabled or config.alerting.heartbeat is not None
    return [config.secret_name] if reads_files else []
