"""The Alertmanager configuration (`alertmanager.config` of kube-prometheus-stack).

Facts it rests on (docs/reference/charts.md#4-kube-prometheus-stack-audit and
docs/reference/charts.md#5-alertmanager-config):
- `alertmanager.tplConfig` stays false, so the config reaches Alertmanager verbatim: the
  templates below are plain Alertmanager templates, never Helm-escaped.
- Helm merges maps but replaces lists, so the chart's default inhibit rules are written out
  here rather than inherited by accident.
- Pushover credentials are files from the mounted Secret keys (privilege.alertmanager_keys mounts
  exactly the keys these `*_file` paths name); their content is sent as is, so the Secret's values
  must not end in a newline.
- Flux events (notification-controller) carry `severity` error|info, a `message` annotation
  and no `endsAt`: they resolve by themselves after resolve_timeout, so their receiver does
  not send "resolved" notifications.
"""

from __future__ import annotations

from krm_fn.charts import ALERTMANAGER_SECRETS_DIR
from krm_fn.config import Config, PushoverLevel
from krm_fn.plain import plain_copy

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
# Alertmanager's template language has no arithmetic, hence "(N firing)" rather than "+N more".
TITLE = (
    "[{{ .CommonLabels.cluster }}] {{ .CommonLabels.alertname }}"
    '{{ if eq .Status "resolved" }} (resolved){{ else if gt (len .Alerts.Firing) 1 }}'
    " ({{ len .Alerts.Firing }} firing){{ end }}"
)
# Prometheus rules set `summary`; Flux events only have `message`.
SUMMARY = "{{ or .Annotations.summary .Annotations.message .Labels.alertname }}"

# Flux events (notification-controller internal/notifier/alertmanager.go): labels kind, name,
# namespace, reason, plus the event metadata (`revision`, with the API group prefix removed);
# annotations `message`, and `summary` when the Alert sets one.
FLUX_TITLE = (
    "[{{ .CommonLabels.cluster }}] {{ with index .Alerts 0 }}{{ .Labels.kind }} "
    "{{ .Labels.namespace }}/{{ .Labels.name }}{{ end }}"
    "{{ if gt (len .Alerts) 1 }} and others ({{ len .Alerts }} events){{ end }}"
)
FLUX_MESSAGE = (
    "{{ range .Alerts }}{{ .Labels.kind }} {{ .Labels.namespace }}/{{ .Labels.name }}"
    '{{ with .Labels.revision }} at {{ . }}{{ end }}{{ "\\n" }}'
    "{{ .Labels.reason }}: {{ with .Annotations.summary }}{{ . }}: {{ end }}{{ .Annotations.message }}"
    '{{ "\\n" }}{{ end }}'
)

# Links (`url`, `url_title`); .ExternalURL is Alertmanager's externalUrl, GeneratorURL Prometheus's.
ALERTS_URL = "{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}"  # Alertmanager's default
# A new silence pre-filled with the group's common labels (the filter format of Alertmanager's UI).
SILENCE_URL = (
    "{{ .ExternalURL }}/#/silences/new?filter=%7B{{ range .CommonLabels.SortedPairs }}"
    '{{ if ne .Name "alertname" }}{{ .Name }}%3D%22{{ .Value | urlquery }}%22%2C%20{{ end }}{{ end }}'
    "alertname%3D%22{{ .CommonLabels.alertname | urlquery }}%22%7D"
)
SOURCE_URL = "{{ with (index .Alerts 0).GeneratorURL }}{{ . }}{{ else }}" + ALERTS_URL + "{{ end }}"
LINKS = {
    "silence": (SILENCE_URL, "Silence {{ .CommonLabels.alertname }}"),
    "source": (
        SOURCE_URL,
        "{{ if (index .Alerts 0).GeneratorURL }}Open in Prometheus{{ else }}Open in Alertmanager{{ end }}",
    ),
    "alertmanager": (ALERTS_URL, "Open in Alertmanager"),
}


def message(labels: tuple[str, ...]) -> str:
    """One entry per alert: its summary, then the listed labels it has (namespace=... pod=...)."""
    shown = "".join(f'{{{{ with index .Labels "{name}" }}}} {name}={{{{ . }}}}{{{{ end }}}}' for name in labels)
    any_shown = " ".join(f'(index .Labels "{name}")' for name in labels)
    line = f'{{{{ if or {any_shown} }}}}{shown}{{{{ "\\n" }}}}{{{{ end }}}}' if labels else ""
    return (
        "{{ range .Alerts.Firing }}" + SUMMARY + '{{ "\\n" }}' + line + "{{ end }}"
        "{{ range .Alerts.Resolved }}resolved: " + SUMMARY + '{{ "\\n" }}' + line + "{{ end }}"
    )


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


def _priority(firing: int, resolved: int) -> str:
    return f'{{{{ if eq .Status "firing" }}}}{firing}{{{{ else }}}}{resolved}{{{{ end }}}}'


def _pushover(config: Config, level: PushoverLevel, flux: bool = False) -> dict:
    pushover = config.alerting.pushover
    secret_dir = f"{ALERTMANAGER_SECRETS_DIR}/{config.secret_name}"
    url, url_title = LINKS[pushover.link]
    entry: dict = {
        # Flux events carry no endsAt and resolve by timeout: a "resolved" push would mean nothing.
        "send_resolved": not flux,
        "user_key_file": f"{secret_dir}/{USER_KEY}",
        "token_file": f"{secret_dir}/{API_TOKEN}",
        # A template string in Alertmanager's config; "resolved" pushes ring quieter.
        "priority": str(level.priority) if flux else _priority(level.priority, pushover.resolved_priority),
        "title": FLUX_TITLE if flux else TITLE,
        "message": FLUX_MESSAGE if flux else message(pushover.labels),
        "url": url,
        "url_title": url_title,
    }
    if level.retry:
        entry["retry"] = level.retry
    if level.expire:
        entry["expire"] = level.expire
    if level.sound:
        entry["sound"] = level.sound
    if pushover.ttl:
        entry["ttl"] = pushover.ttl
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
        out.append({"name": FLUX, "pushover_configs": [_pushover(config, pushover.flux, flux=True)]})
    return out


def alertmanager_config(config: Config) -> dict:
    """The whole `alertmanager.config` map."""
    alerting = config.alerting
    return {
        "global": {"resolve_timeout": alerting.resolve_timeout},
        "inhibit_rules": plain_copy(list(INHIBIT_RULES)),  # no shared objects: YAML would alias them
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
