"""Command line: argument parsing only; the work is in protocol, engine, render and lint.

observability-fn                      KRM function: ResourceList on stdin (kpt, kustomize)
observability-fn CONFIG_FILE          legacy kustomize exec plugin (kubectl kustomize)
observability-fn render PATH...       the stack as YAML, or files for Flux (--output DIR)
observability-fn check PATH...        the rules over a repository, read as Flux and kustomize read it
observability-fn schema               the ObservabilityConfig JSON Schema
observability-fn verify CONFIG        check the deployed stack in the live cluster (kubectl)
observability-fn install-plugin       make kubectl kustomize find the legacy plugin
"""

from __future__ import annotations

import gc
import os
import sys

from krm_fn import __version__, regex_cache

TYPE_CHECKING = False
if TYPE_CHECKING:  # start-up budget: docs/startup.md
    import argparse

COMMANDS = ("render", "check", "verify", "diff", "schema", "install-plugin", "version")


def _write(outcome) -> int:
    if outcome.stdout:
        sys.stdout.write(outcome.stdout)
    if outcome.stderr:
        sys.stderr.write(outcome.stderr)
    return outcome.exit_code


def _parser() -> argparse.ArgumentParser:
    import argparse  # start-up budget: docs/startup.md (only subcommands parse options)

    parser = argparse.ArgumentParser(
        prog="observability-fn",
        description=(
            "Expand one ObservabilityConfig into kube-prometheus-stack, Loki, Alloy, Flux alerting and "
            "Gateway API routes, and check the SOPS Secret and every route on the way. With no command it "
            "is a KRM function: a ResourceList on stdin, one on stdout."
        ),
    )
    parser.add_argument("--version", action="version", version=f"observability-fn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    render = sub.add_parser("render", help="print the stack as multi-document YAML, or write it for Flux")
    render.add_argument("paths", nargs="+", metavar="PATH", help="config file, plus resources to pass through")
    render.add_argument("-o", "--output", metavar="DIR", help="write one file per resource and a kustomization.yaml")
    render.add_argument("--check", action="store_true", help="with --output: exit 1 and print a diff if DIR is stale")
    render.add_argument("--summary", action="store_true", help="print the pods and resource totals of the profile")
    render.add_argument(
        "--through-helm",
        action="store_true",
        help="print what the cluster gets: each HelmRelease rendered by helm template from its chart",
    )
    render.add_argument(
        "--charts",
        action="append",
        default=[],
        metavar="DIR",
        help="with --through-helm: local charts (DIR/<chart>-<version>/<chart>/), tried before pulling",
    )
    render.add_argument("--helm", metavar="PATH", help="with --through-helm: the helm binary (default: helm on PATH)")
    render.add_argument("--offline", action="store_true", help="with --through-helm: never pull a chart; only --charts")

    check = sub.add_parser(
        "check",
        help="run every rule over a repository, read the way Flux and kustomize read it",
        description="Run every rule over the Kubernetes objects below PATH, built the way Flux and kustomize "
        "build them. Exit 1 on any error (with --strict, on any warning too), or when nothing was checked.",
    )
    check.add_argument("paths", nargs="+", metavar="PATH")
    check.add_argument(
        "--format",
        choices=("text", "github", "json"),
        default="text",
        help="text: one line per finding; github: workflow annotations; json: one document for other tools",
    )
    check.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    check.add_argument(
        "--allow-empty", action="store_true", help="exit 0 with a warning when no Kubernetes object was found"
    )
    check.add_argument(
        "--include", action="append", default=[], metavar="GLOB", help="only files matching GLOB (repeatable)"
    )
    check.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB", help="skip files matching GLOB (repeatable)"
    )
    check.add_argument(
        "--root",
        metavar="DIR",
        help="the directory Flux paths are relative to (default: found from the Flux paths, else the git work tree)",
    )

    verify = sub.add_parser("verify", help="check the deployed stack in the live cluster through kubectl")
    verify.add_argument("config", metavar="CONFIG", help="the ObservabilityConfig file the stack was rendered from")
    verify.add_argument("--context", help="kubeconfig context (default: the current one)")
    verify.add_argument("--kubectl", default="kubectl", help="the kubectl to run (default: kubectl on PATH)")
    verify.add_argument("--dns", action="store_true", help="also resolve every HTTPRoute hostname")
    verify.add_argument("--send-test-alert", action="store_true", help="post one warning-level test alert")
    verify.add_argument("--format", choices=("text", "json"), default="text", dest="output_format")

    diff = sub.add_parser(
        "diff", help="what changes in the cluster between two renders (e.g. `render --through-helm` of two branches)"
    )
    diff.add_argument("old", metavar="OLD", help="the base render (multi-document YAML)")
    diff.add_argument("new", metavar="NEW", help="the new render")
    diff.add_argument("--output", choices=("text", "markdown"), default="text", help="markdown: a pull-request comment")

    sub.add_parser("schema", help="print the ObservabilityConfig JSON Schema")

    plugin = sub.add_parser("install-plugin", help="install the legacy exec plugin for kubectl kustomize")
    plugin.add_argument("--dir", help="plugin home (default: $KUSTOMIZE_PLUGIN_HOME or ~/.config/kustomize/plugin)")
    sub.add_parser("version", help="print the version")
    return parser


def console() -> None:
    """The `observability-fn` command: `main()` in a process that is gone a tenth of a second later.

    The cyclic garbage collector runs rarely (what a run allocates is freed at exit anyway) and,
    once the output is flushed, the process exits without the interpreter's teardown: together
    ~8 ms of a 20-resource kpt run. Compiled regular expressions come from the table an earlier
    run left (krm_fn/regex_cache.py). Exit codes are `main()`'s; a failed flush gives 120, as
    Python's own exit does.
    """
    gc.set_threshold(100_000, 50, 100)
    regex_cache.install()  # ~15 ms of a 20-resource run: see krm_fn/regex_cache.py
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # e.g. BrokenPipeError: the reader went away
        code = 120
    regex_cache.save()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    """Run one command; a bug becomes one line on stderr, never a traceback (it could quote input)."""
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # the last line of defence: rules and parsers report their own errors
        if os.environ.get("OBSERVABILITY_FN_DEBUG"):
            raise
        sys.stderr.write(
            f"observability-fn: internal error ({type(exc).__name__}); please report it with the input "
            "(set OBSERVABILITY_FN_DEBUG=1 to see the traceback)\n"
        )
        return 1


def _stdin(limit: int) -> bytes:
    """At most one byte more than `limit`: enough to refuse an oversized input without holding it all."""
    return sys.stdin.buffer.read(limit + 1)


def _main(argv: list[str]) -> int:
    if not argv or argv[0] not in (*COMMANDS, "-h", "--help", "--version"):
        if argv and (os.environ.get("KUSTOMIZE_PLUGIN_CONFIG_STRING") is not None or os.path.isfile(argv[0])):
            from krm_fn import protocol  # start-up budget: docs/startup.md (each command imports its own)

            return _write(protocol.run_legacy(argv[0], _stdin(protocol.MAX_INPUT_BYTES)))
        if argv and not argv[0].startswith("-") and (os.sep in argv[0] or argv[0].endswith((".yaml", ".yml"))):
            # the legacy plugin form (`observability-fn CONFIG_FILE`) with a file that is not there
            problem = "is a directory" if os.path.isdir(argv[0]) else "No such file or directory"
            sys.stderr.write(
                f"cannot read {argv[0]}: {problem}; give a command ({', '.join(COMMANDS)}) "
                "or the config file of the legacy kustomize plugin\n"
            )
            return 1
        if not argv:
            if sys.stdin.isatty():
                _parser().print_help(sys.stderr)
                return 2
            from krm_fn import protocol

            return _write(protocol.run_krm(_stdin(protocol.MAX_INPUT_BYTES)))

    args = _parser().parse_args(argv)
    if args.command == "schema":
        from krm_fn import config

        sys.stdout.write(config.schema_text())
        return 0
    if args.command == "version":
        print(f"observability-fn {__version__}")
        return 0
    if args.command == "render" and args.summary:
        from krm_fn import summary

        out, err, code = summary.run(args.paths)
        sys.stdout.write(out)
        sys.stderr.write(err)
        return code
    if args.command == "render" and args.through_helm:
        from krm_fn import through_helm

        return _write(through_helm.run(args.paths, args.charts, args.helm, args.offline))
    if args.command == "render":
        from krm_fn import render

        return _write(render.run(args.paths, args.output, args.check))
    if args.command == "check":
        from krm_fn import lint

        return _write(
            lint.run(args.paths, args.format, args.strict, args.allow_empty, args.include, args.exclude, args.root)
        )
    if args.command == "verify":
        from krm_fn import verify

        return _write(
            verify.run(args.config, args.context, args.kubectl, args.dns, args.send_test_alert, args.output_format)
        )
    if args.command == "diff":
        from krm_fn import diff

        return _write(diff.run(args.old, args.new, args.output))
    if args.command == "install-plugin":
        from krm_fn import plugin

        return _write(plugin.install(args.dir))
    _parser().print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
