"""Hostile or broken input: a clear one-line error, a KRM result, a non-zero exit; never a
traceback, a hang or a memory blow-up.

Each case runs the real console script as kpt would, under a wall-clock timeout and an
address-space limit. The bounds catch runaway behaviour (a hang, an exponential expansion,
a copy per byte); they are generous on purpose and are not timing assertions.
"""

from __future__ import annotations

import base64
import os
import resource
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import FUNCTION, UPSTREAM, default_config

TIME_LIMIT = 20  # seconds
MEMORY_LIMIT = 1 << 30  # bytes of address space
HEAD = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"


def function_config() -> str:
    return "functionConfig:\n" + "".join("  " + line for line in yaml.safe_dump(default_config()).splitlines(True))


def stack_secret() -> str:
    """The stack's SOPS-encrypted Secret as a ResourceList entry, so that no rule misses it."""
    lines = (UPSTREAM / "sops" / "monitoring-secrets.enc.yaml").read_text().splitlines(keepends=True)
    return "".join(("- " if i == 0 else "  ") + line for i, line in enumerate(lines))


def with_items(items: str) -> bytes:
    """A ResourceList of the stack Secret, `items` and the default config."""
    return (HEAD + "items:\n" + stack_secret() + items + function_config()).encode()


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(stdin: bytes, *args: str) -> subprocess.CompletedProcess:
    """The console script under the time and memory bounds; a hang fails with TimeoutExpired."""
    env = {**os.environ, "OBSERVABILITY_FN_CACHE": "off"}
    return subprocess.run(
        [FUNCTION, *args],
        input=stdin,
        capture_output=True,
        timeout=TIME_LIMIT,
        preexec_fn=limit_memory,
        env=env,
        check=False,
    )


def assert_refused(proc: subprocess.CompletedProcess, *words: str, krm: bool = True) -> str:
    """Exit 1, no traceback, one clear error line on stderr naming the problem, and that error
    as a result on stdout. (Other rules may add info lines when the run got as far as the rules.)"""
    stderr = proc.stderr.decode()
    assert "Traceback" not in stderr
    assert proc.returncode == 1, stderr
    errors = [line for line in stderr.splitlines() if "error [" in line]
    assert len(errors) == 1, stderr
    for word in words:
        assert word in errors[0], errors[0]
    if krm:
        # The items may hold the problem (an item that does not read is passed on as it came):
        # read the head and the results, which the function writes itself.
        stdout = proc.stdout.decode()
        assert stdout.startswith("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"), stdout[:200]
        out = yaml.load(stdout[stdout.index("\nresults:\n") :], Loader=yaml.CSafeLoader)
        results = [r for r in out["results"] if r["severity"] == "error"]
        assert len(results) == 1 and results[0]["message"] in errors[0]
    return errors[0]


@pytest.mark.parametrize(
    ("stdin", "words"),
    [
        (b"", ["stdin is empty"]),
        (b"  \n\n", ["stdin is empty"]),
        (b"{{{{ not: yaml ]]", ["invalid YAML", "line 1"]),
        (b"a: 'unclosed\n", ["invalid YAML", "end of stream"]),
        (b"just a string\n", ["ResourceList"]),
        (b"- a\n- list\n", ["ResourceList"]),
        (b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n", ["ConfigMap", "not a ResourceList"]),
        (HEAD.encode() + b"---\n" + HEAD.encode(), ["one YAML mapping"]),
        (HEAD.encode() + b"items: 7\n", ["items must be a list"]),
        (HEAD.encode() + b"kind: Twice\n", ["duplicate key 'kind'"]),
    ],
)
def test_input_that_is_not_a_resource_list(stdin: bytes, words: list[str]):
    assert_refused(run(stdin), *words)


@pytest.mark.parametrize(
    ("item", "what"),
    [
        ("- a string\n", "a string"),
        ("- [a, list]\n", "a list"),
        ("-\n", "empty"),
        ("- null\n", "empty"),
        ("- 12\n", "a number"),
    ],
)
def test_items_that_are_not_mappings(item: str, what: str):
    assert_refused(run(with_items(item)), what, "not a Kubernetes object")


def test_a_missing_function_config():
    assert_refused(run((HEAD + "items: []\n").encode()), "no ObservabilityConfig found")


@pytest.mark.parametrize(
    "config",
    [
        "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: function-input}\n  data: {a: b}\n",
        "functionConfig: hello\n",
        "functionConfig: [1, 2]\n",
    ],
)
def test_a_wrong_function_config(config: str):
    assert_refused(run((HEAD + "items: []\n" + config).encode()), "functionConfig is a", "not an ObservabilityConfig")


def test_invalid_utf8():
    stdin = with_items(
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: x}\n  data: {a: \xff}\n".replace("\xff", "@")
    )
    stdin = stdin.replace(b"{a: @}", b"{a: \xff\xfe}")
    line = assert_refused(run(stdin), "not UTF-8", "invalid byte at offset")
    assert str(stdin.index(b"\xff")) in line


BILLION_LAUGHS = "".join(
    ['  lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n']
    + [f"  lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10)]
)


def test_an_alias_bomb_in_an_item():
    item = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: bomb\n  data:\n" + BILLION_LAUGHS.replace(
        "\n  ", "\n    "
    ).replace("  lol0", "    lol0", 1)
    assert_refused(run(with_items(item)), "alias bomb")


def test_an_alias_bomb_in_the_function_config():
    stdin = (HEAD + "items: []\nfunctionConfig:\n" + BILLION_LAUGHS).encode()
    assert_refused(run(stdin), "alias bomb")


@pytest.mark.parametrize(
    "nested",
    [
        "[" * 100_000 + "]" * 100_000,  # flow
        "{a: " * 20_000 + "1" + "}" * 20_000,
    ],
)
def test_deeply_nested_flow_collections(nested: str):
    item = f"- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: deep\n  data:\n    x: {nested}\n"
    assert_refused(run(with_items(item)), "nested too deeply")


def test_deeply_nested_block_mappings_in_the_function_config():
    deep = "".join(" " * (2 + i) + "k:\n" for i in range(3000))
    stdin = (HEAD + "items: []\nfunctionConfig:\n" + deep).encode()
    assert_refused(run(stdin), "nested too deeply")


def test_deep_nesting_as_the_whole_input():
    assert_refused(run(b"[" * 1_000_000), "invalid YAML")


def test_a_100_mb_input_is_refused_without_reading_it_into_yaml():
    stdin = (
        with_items("- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: big}\n  data:\n    x: |\n")
        + (b"      " + b"y" * 1000 + b"\n") * 100_000
    )
    assert len(stdin) > 100 * 1_000_000
    assert_refused(run(stdin), "MiB, more than the", "OBSERVABILITY_FN_MAX_INPUT_MB")


def test_a_huge_single_line_that_is_not_yaml():
    assert_refused(run(b"x" * 30_000_000), "ResourceList")


def test_a_huge_single_line_value_passes_through_unchanged():
    line = "v" * 20_000_000
    item = f"- apiVersion: v1\n  kind: Deployment\n  metadata:\n    name: wide\n  spec:\n    x: {line}\n"
    proc = run(with_items(item))
    assert proc.returncode == 0, proc.stderr.decode()[:2000]
    assert item.encode() in proc.stdout


@pytest.mark.parametrize("where", ["item", "start"])
def test_nul_bytes(where: str):
    if where == "item":
        stdin = with_items("- apiVersion: v1\n  kind: Deployment\n  metadata:\n    name: a\x00b\n")
    else:
        stdin = b"\x00" + with_items("")
    assert_refused(run(stdin), "U+0000", "not allowed")


def sops_like(value_seed: int, size: int) -> str:
    """A value shaped like a SOPS ciphertext (the keyless checks accept it)."""
    data = base64.b64encode(bytes([value_seed % 251]) * size).decode()
    iv, tag = base64.b64encode(b"i" * 32).decode(), base64.b64encode(b"t" * 16).decode()
    return f"ENC[AES256_GCM,data:{data},iv:{iv},tag:{tag},type:str]"


def encrypted_secret(name: str, keys: int, extra: str = "") -> str:
    """A Secret entry with `keys` encrypted-looking values and a SOPS block (not the stack Secret)."""
    data = "".join(f"    key{i}: {sops_like(i, 8)}\n" for i in range(keys)) + extra
    return (
        f"- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: {name}\n    namespace: apps\n  stringData:\n{data}"
        "  sops:\n    age:\n    - recipient: age14g9u6ydpcpptvt4hjd0ep6j6x5g0uyey03tyra66g8cjdvwrxdks8y40tl\n"
        "      enc: |\n        -----BEGIN AGE ENCRYPTED FILE-----\n        -----END AGE ENCRYPTED FILE-----\n"
        f'    lastmodified: "2026-11-27T02:15:29Z"\n    mac: {sops_like(1, 128)}\n    version: 3.11.0\n'
    )


def test_a_document_with_100k_keys_is_read_within_bounds():
    item = encrypted_secret("many", 100_000)
    proc = run(with_items(item))
    assert "Traceback" not in proc.stderr.decode()
    assert proc.returncode == 0, proc.stderr.decode()[:2000]
    assert item.encode() in proc.stdout


def test_a_duplicate_among_100k_keys_is_found():
    item = encrypted_secret("many", 100_000, extra=f"    key5: {sops_like(5, 8)}\n")
    assert_refused(run(with_items(item)), "duplicate key 'key5'")


def test_100k_keys_in_an_object_nobody_reads_pass_through_unparsed():
    """Objects no rule reads are not parsed (kpt has parsed them already): fast, and unchanged."""
    data = "".join(f"    key{i}: value{i}\n" for i in range(100_000))
    item = "- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: many\n  spec:\n" + data
    proc = run(with_items(item))
    assert proc.returncode == 0, proc.stderr.decode()[:2000]
    assert item.encode() in proc.stdout


def test_an_unclosed_quote_running_to_the_end():
    assert_refused(run(with_items('- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: "open\n')), "invalid YAML")


def test_errors_never_quote_the_input():
    secret = "s3cr3t-hunter2"
    proc = run(with_items(f'- apiVersion: v1\n  kind: Secret\n  stringData:\n    password: "{secret}\n  - [\n'))
    assert_refused(proc, "invalid YAML")
    assert secret.encode() not in proc.stderr
    # The item that does not read goes back as it came (kpt discards the output of a failed
    # function); the results the function writes never quote it.
    assert secret.encode() not in proc.stdout[proc.stdout.index(b"\nresults:\n") :]


# --- the other entry points --------------------------------------------------------------------


def test_the_legacy_plugin_with_hostile_stdin(tmp_path: Path):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(default_config()))
    env_free = {k: v for k, v in os.environ.items() if not k.startswith("KUSTOMIZE_PLUGIN_CONFIG")}
    proc = subprocess.run(
        [FUNCTION, str(config)],
        input=b"kind: A\n--- !!binary\n" + b"[" * 200_000,
        capture_output=True,
        timeout=TIME_LIMIT,
        preexec_fn=limit_memory,
        env={**env_free, "OBSERVABILITY_FN_CACHE": "off"},
        check=False,
    )
    assert_refused(proc, "invalid YAML", krm=False)


def test_check_over_files_with_hostile_yaml(tmp_path: Path):
    (tmp_path / "nul.yaml").write_bytes(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\x00\n")
    (tmp_path / "bomb.yaml").write_text("apiVersion: v1\nkind: ConfigMap\ndata:\n" + BILLION_LAUGHS)
    (tmp_path / "deep.yaml").write_text("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: " + "[" * 50_000)
    (tmp_path / "deeper.yaml").write_text("a: " + "[" * 50_000)  # not a Kubernetes object: counted, not reported
    proc = run(b"", "check", str(tmp_path))
    stdout = proc.stdout.decode()
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr.decode()
    assert (
        "deeper.yaml" not in stdout
        and "files that are not Kubernetes objects (app configs, templates, helmfiles) 1" in proc.stderr.decode()
    )
    for name, words in (("nul.yaml", "U+0000"), ("bomb.yaml", "alias bomb"), ("deep.yaml", "invalid YAML")):
        assert any(name in line and words in line for line in stdout.splitlines()), stdout
