"""Every example under examples/ runs through its real consumer and matches its expected output.

Each example directory holds an input (a kpt package, a kustomization, a config for `render`)
and `.expected/config.yaml`, which says how to run it (kpt-functions-catalog style):

    command: [kustomize, build, --enable-alpha-plugins, --enable-exec, .]   # run in a copy
    output: stdout | package | in-place
    exitCode: 0          # default 0
    stderr: [...]        # fragments stderr must contain
    secretValues: [...]  # values that must appear nowhere in stdout or stderr
    idempotent: true     # package: a second run changes nothing
    docker: true         # needs dockerd and example.com/observability-fn:dev

`stdout`: stdout equals `.expected/output.yaml` (empty when the file is absent). stderr equals
`.expected/stderr.txt` when the example fails (exitCode not 0) or the file exists (kpt's step
timings read `in <time>`). `package`: the
directory's change equals `.expected/diff.patch`. `in-place`: the example already holds the
output (the Flux build), so running the command must change nothing.

After a deliberate change of the generated stack, refresh the expected files with
`UPDATE_EXAMPLES=1 .venv/bin/pytest tests/test_examples.py` and review the diff.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import shutil
import string
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.helm_render import echo_chart, golden, of_kind
from tests.helpers import FUNCTION, REPO
from tests.tools import docker_ready, tool

pytestmark = pytest.mark.e2e

EXAMPLES = REPO / "examples"
UPDATE = os.environ.get("UPDATE_EXAMPLES") == "1"
EXPECTED = ".expected"
DOCS = REPO / "README.md"
# The pages whose `sh` blocks run here, as written; docs/operations/ pages run theirs against the
# stand-ins they need (tests/test_docs_operations.py, tests/test_verify.py).
GUIDES = sorted([*(REPO / "docs").glob("*.md"), *(REPO / "docs" / "guides").glob("*.md")])
TIMING = re.compile(r"^(\[(?:PASS|FAIL)\] .*) in [0-9.]+m?s$", re.MULTILINE)  # kpt's step timings
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass
class Spec:
    command: list[str]
    output: str
    exit_code: int = 0
    stderr: list[str] = field(default_factory=list)
    secret_values: list[str] = field(default_factory=list)
    idempotent: bool = False
    docker: bool = False

    @classmethod
    def load(cls, example: Path) -> Spec:
        raw = yaml.safe_load((example / EXPECTED / "config.yaml").read_text())
        spec = cls(
            command=[str(part) for part in raw["command"]],
            output=raw["output"],
            exit_code=raw.get("exitCode", 0),
            stderr=raw.get("stderr", []),
            secret_values=raw.get("secretValues", []),
            idempotent=raw.get("idempotent", False),
            docker=raw.get("docker", False),
        )
        assert spec.output in ("stdout", "package", "in-place"), f"{example.name}: unknown output {spec.output}"
        return spec


def examples() -> list[str]:
    return sorted(p.parent.parent.name for p in EXAMPLES.glob(f"*/{EXPECTED}/config.yaml"))


def run(spec: Spec, cwd: Path, plugin_home: Path) -> subprocess.CompletedProcess:
    """The example's command as a user types it, with the venv's observability-fn on PATH."""
    name, *args = spec.command
    executable = FUNCTION if name == "observability-fn" else tool(name)
    env = {k: v for k, v in os.environ.items() if k not in ("KUSTOMIZE_PLUGIN_HOME", "XDG_CONFIG_HOME")}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
        KUSTOMIZE_PLUGIN_HOME=str(plugin_home),
        OBSERVABILITY_FN_CACHE="off",
    )
    return subprocess.run(
        [executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300, check=False
    )


def snapshot(directory: Path) -> dict[str, str]:
    """Every file of an example (its .expected/ aside), as text."""
    return {
        p.relative_to(directory).as_posix(): p.read_text()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and EXPECTED not in p.relative_to(directory).parts
    }


def tree_diff(before: dict[str, str], after: dict[str, str]) -> str:
    """A unified diff between two snapshots, file by file in path order (new files from /dev/null)."""
    out: list[str] = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        out.extend(
            difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                (new or "").splitlines(keepends=True),
                f"a/{name}" if old is not None else "/dev/null",
                f"b/{name}" if new is not None else "/dev/null",
            )
        )
    return "".join(out)


def check_or_update(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual)
        return
    expected = path.read_text() if path.exists() else ""
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True), actual.splitlines(keepends=True), "expected", "actual", n=2
            )
        )
        pytest.fail(
            f"{path.relative_to(REPO)} differs from what the example produces "
            f"(UPDATE_EXAMPLES=1 refreshes it):\n{diff[:6000]}",
            pytrace=False,
        )


@pytest.mark.parametrize("name", examples())
def test_example(name: str, tmp_path: Path, plugin_home: Path) -> None:
    example = EXAMPLES / name
    spec = Spec.load(example)
    if spec.docker:
        docker_ready()
    work = tmp_path / name
    shutil.copytree(example, work, ignore=shutil.ignore_patterns(EXPECTED))
    before = snapshot(work)

    proc = run(spec, work, plugin_home)
    assert proc.returncode == spec.exit_code, f"exit {proc.returncode}\n{proc.stderr}"
    for fragment in spec.stderr:
        assert fragment in proc.stderr, f"{fragment!r} not in stderr:\n{proc.stderr}"
    for value in spec.secret_values:
        assert value not in proc.stdout and value not in proc.stderr, "a secret value was printed"
    assert "Traceback" not in proc.stderr
    stderr_file = example / EXPECTED / "stderr.txt"
    if spec.exit_code != 0 or stderr_file.exists():
        check_or_update(stderr_file, TIMING.sub(r"\1 in <time>", proc.stderr))

    if spec.output == "stdout":
        check_or_update(example / EXPECTED / "output.yaml", proc.stdout)
        return
    after = snapshot(work)
    if spec.output == "package":
        check_or_update(example / EXPECTED / "diff.patch", tree_diff(before, after))
        if spec.idempotent:
            proc = run(spec, work, plugin_home)
            assert proc.returncode == 0, proc.stderr
            assert tree_diff(after, snapshot(work)) == "", "a second run changed the package"
        return
    if UPDATE:
        assert run(spec, example, plugin_home).returncode == 0
        return
    assert tree_diff(before, after) == "", f"examples/{name} is stale: run `{' '.join(spec.command)}` in it"


def test_every_example_directory_has_its_expected_results() -> None:
    """A directory under examples/ without `.expected/config.yaml` would never be run or checked."""
    directories = {p.name for p in EXAMPLES.iterdir() if p.is_dir()}
    assert directories == set(examples()), f"no {EXPECTED}/config.yaml in {sorted(directories - set(examples()))}"


# Rules no example can show, and why; every other rule has an example whose expected stderr names it.
WITHOUT_EXAMPLE = {
    "input": "the consumers (kustomize, kpt) refuse such input before the function sees it",
    "internal-error": "no rule crashes on purpose",
}


def test_every_rule_has_an_example_that_reports_it() -> None:
    from krm_fn import engine, rules  # noqa: F401 - engine registers every rule

    expected = [*EXAMPLES.glob(f"*/{EXPECTED}/stderr.txt"), *EXAMPLES.glob(f"*/{EXPECTED}/output.yaml")]
    shown = "".join(p.read_text() for p in expected)
    missing = {r.id for r in rules.RULES if f"[{r.id}]" not in shown}
    assert missing == set(WITHOUT_EXAMPLE), (
        f"rules with no example: {sorted(missing - set(WITHOUT_EXAMPLE))}; "
        f"listed in WITHOUT_EXAMPLE but shown by one: {sorted(set(WITHOUT_EXAMPLE) - missing)}"
    )


@pytest.mark.parametrize("name", examples())
def test_readme_shows_the_command_the_test_runs(name: str) -> None:
    spec = Spec.load(EXAMPLES / name)
    readme = (EXAMPLES / name / "README.md").read_text()
    assert " ".join(spec.command) in readme


PRINTS = re.compile(r"(What it prints[^\n]*\n\n```\n)(.*?)(```\n)", re.DOTALL)


@pytest.mark.parametrize("name", examples())
def test_readme_shows_what_the_example_prints(name: str) -> None:
    """A README's "What it prints" block is the expected stdout (for `check`) and stderr."""
    readme = EXAMPLES / name / "README.md"
    match = PRINTS.search(readme.read_text())
    if match is None:
        return
    expected = EXAMPLES / name / EXPECTED
    printed = [expected / "stderr.txt"]
    if Spec.load(EXAMPLES / name).command[:2] == ["observability-fn", "check"]:
        printed.insert(0, expected / "output.yaml")
    block = "".join(p.read_text() for p in printed if p.exists()).rstrip("\n") + "\n"
    if UPDATE:
        text = readme.read_text()
        readme.write_text(text[: match.start(2)] + block + text[match.end(2) :])
        return
    assert match.group(2) == block, f"examples/{name}/README.md shows stale output (UPDATE_EXAMPLES=1 refreshes it)"


def test_github_actions_workflow_renders_and_checks() -> None:
    """The workflow is valid YAML, installs the function and fails on drift with render --check."""
    text = (EXAMPLES / "github-actions" / "render.yaml").read_text()
    workflow = yaml.safe_load(text)
    steps = workflow["jobs"]["render"]["steps"]
    runs = [step.get("run", "") for step in steps]
    assert any("pip install" in r for r in runs)
    check = [r for r in runs if "observability-fn render" in r]
    assert check and "--check" in check[-1] and "--output" in check[-1]
    assert "flux push artifact" in text and "flux tag artifact" in text


def test_github_actions_image_workflow_builds_this_dockerfile_for_amd64_and_arm64() -> None:
    """The image workflow is valid YAML and builds the repository's Dockerfile the plain way."""
    workflow = yaml.safe_load((EXAMPLES / "github-actions" / "image.yaml").read_text())
    steps = workflow["jobs"]["image"]["steps"]
    build = next(step["with"] for step in steps if step.get("uses", "").startswith("docker/build-push-action"))
    assert build["context"] == "." and "build-args" not in build
    assert build["platforms"] == "linux/amd64,linux/arm64"
    assert (REPO / "Dockerfile").is_file()


def test_github_actions_example_runs_the_workflows_check_step() -> None:
    """examples/github-actions/.expected runs render.yaml's last step with the workflow's env paths."""
    workflow = yaml.safe_load((EXAMPLES / "github-actions" / "render.yaml").read_text())
    step = workflow["jobs"]["render"]["steps"][-1]["run"]
    as_run = [string.Template(word).substitute(workflow["env"]) for word in shlex.split(step)]
    assert Spec.load(EXAMPLES / "github-actions").command == as_run


def test_github_actions_check_command_works_as_written(tmp_path: Path) -> None:
    """The workflow's render --check line, on this repository's Flux example."""
    workflow = yaml.safe_load((EXAMPLES / "github-actions" / "render.yaml").read_text())
    step = workflow["jobs"]["render"]["steps"][-1]["run"]
    flux = EXAMPLES / "flux"
    env = {
        "CONFIG": str(flux / "observability.yaml"),
        "SECRET": str(flux / "monitoring-secrets.enc.yaml"),
        "OUTPUT": str(flux / "rendered"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "OBSERVABILITY_FN_CACHE": "off",
    }
    proc = subprocess.run(["bash", "-ec", step], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- README.md and docs/: every sh block, run as written ------------------------------------


def doc_blocks() -> list[tuple[str, str]]:
    """(page, block) of each sh block of README.md, then of each page of docs/."""
    return [
        (str(page.relative_to(REPO)), block) for page in (DOCS, *GUIDES) for block in SH_BLOCK.findall(page.read_text())
    ]


def as_script(block: str) -> str:
    """The block for `bash -e`: a line `! cmd` (this must fail) must really fail the script when cmd succeeds."""
    lines = []
    for line in block.splitlines():
        if line.startswith("! "):
            command = line[2:]
            line = f"if {command}; then echo 'expected to fail: {command}' >&2; exit 1; fi"
        lines.append(line)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("index", range(len(doc_blocks())), ids=[f"{p}#{i}" for i, (p, _) in enumerate(doc_blocks())])
def test_docs_commands_run_as_written(index: int, tmp_path: Path) -> None:
    """Each sh block of README.md and docs/, from the root of a scratch copy of the repository's examples."""
    page, block = doc_blocks()[index]
    if any(marker in block for marker in ("example.com/observability-fn", "kustomize-container", "kpt-render-image")):
        docker_ready()
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copytree(EXAMPLES, repo / "examples", ignore=shutil.ignore_patterns(EXPECTED))
    shutil.copytree(REPO / "function-config", repo / "function-config")
    shutil.copy(REPO / "kustomization.yaml", repo / "kustomization.yaml")
    home = tmp_path / "home"
    home.mkdir()
    # `render --through-helm` pulls charts into ~/.cache/observability-fn/charts; the tests reach no
    # chart repository, so that cache holds stand-in charts of our own for the stack's releases.
    for release in of_kind(golden("default"), "HelmRelease"):
        chart = release["spec"]["chart"]["spec"]
        echo_chart(home / ".cache" / "observability-fn" / "charts", chart["chart"], chart["version"])
    tool_dirs = {str(Path(tool(name)).parent) for name in ("kpt", "kubectl", "kustomize")}
    env = {k: v for k, v in os.environ.items() if k not in ("KUSTOMIZE_PLUGIN_HOME", "XDG_CONFIG_HOME")}
    env.update(
        HOME=str(home),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), *sorted(tool_dirs), env["PATH"]]),
        OBSERVABILITY_FN_CACHE="off",
    )
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", as_script(block)],
        capture_output=True,
        text=True,
        cwd=repo,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, f"{page}, block {index}:\n{block}\n--- stderr:\n{proc.stderr[-4000:]}"
