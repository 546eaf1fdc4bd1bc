"""SOPS fixtures made at test time: a fresh age key from the real `age-keygen`, files encrypted by the real `sops`.

No private key is ever stored in the repository: each test session (or module) makes its own in a
temporary directory. The variants mirror third_party/upstream/sops/ (see its README for what
`sops decrypt` says about each), but are built from the plaintext values a test chooses, so a test
can look for those values in the function's output.

    sops = make_sops(tmp_path)                       # new key, .sops.yaml for it
    files = sops.variants(tmp_path / "v", values)    # {"good": Path, "partial": Path, ...}
    sops.decrypt(files["good"]).returncode == 0
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.helpers import UPSTREAM
from tests.tools import tool

SECRET_NAME = "monitoring-secrets"
NAMESPACE = "monitoring"
ENCRYPTED_REGEX = "^(data|stringData)$"
PARTIAL_REGEX = "^(pushover-api-token|grafana-admin-.*)$"  # leaves pushover-user-key in clear, as upstream's
PLAIN_FILE = UPSTREAM / "sops" / "monitoring-secrets.plain.yaml"

# What `sops decrypt` (with the key) exits with for each variant (upstream README; checked by tests).
DECRYPT_RC = {
    "good": 0,
    "plain": 1,
    "partial": 0,
    "tampered-plaintext": 25,
    "tampered-swapped": 25,
    "tampered-metadata": 51,
    "tampered-removed-key": 51,
}


def upstream_values() -> dict[str, str]:
    """The plaintext values of upstream's plain fixture."""
    return dict(yaml.safe_load(PLAIN_FILE.read_text())["stringData"])


def secret_text(
    values: dict[str, object],
    name: str = SECRET_NAME,
    namespace: str | None = NAMESPACE,
    section: str = "stringData",
) -> str:
    """A plaintext Secret as a user writes it (keys in the given order)."""
    metadata: dict[str, str] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    doc = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque", section: values}
    return yaml.safe_dump(doc, sort_keys=False, width=1 << 20)


@dataclass(frozen=True)
class Sops:
    """The real sops binary with a fresh age identity and a .sops.yaml for it."""

    binary: str
    key_file: Path
    recipient: str
    config: Path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
        env["SOPS_AGE_KEY_FILE"] = str(self.key_file)
        return env

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """`sops --disable-version-check --config OUR_CONFIG ARGS...` (text output)."""
        argv = [self.binary, "--disable-version-check", "--config", str(self.config), *args]
        return subprocess.run(argv, capture_output=True, text=True, env=self.env(), cwd=cwd, timeout=60, check=False)

    def encrypt_text(self, plain: str, path: Path, encrypted_regex: str = ENCRYPTED_REGEX) -> Path:
        """Write `plain` to `path` and encrypt it there in place; the path."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(plain)
        proc = self.run("encrypt", "--encrypted-regex", encrypted_regex, "--in-place", str(path))
        if proc.returncode != 0:
            raise AssertionError(f"sops encrypt failed with rc {proc.returncode}: {proc.stderr.strip()[:300]}")
        return path

    def with_rule(self, directory: Path, **creation_rule: object) -> Sops:
        """The same key with another .sops.yaml, holding one creation rule (the age recipient added unless given)."""
        if "key_groups" not in creation_rule:
            creation_rule.setdefault("age", self.recipient)
        config = directory / ".sops.yaml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(yaml.safe_dump({"creation_rules": [creation_rule]}, sort_keys=False))
        return Sops(self.binary, self.key_file, self.recipient, config)

    def decrypt(self, path: Path) -> subprocess.CompletedProcess:
        """`sops decrypt FILE` with our key."""
        return self.run("decrypt", str(path))

    def decrypt_text(self, text: str, directory: Path, name: str = "check.enc.yaml") -> subprocess.CompletedProcess:
        """Decrypt YAML text (say, one document of the function's output) by way of a file."""
        path = directory / name
        path.write_text(text)
        return self.decrypt(path)

    def variants(self, directory: Path, values: dict[str, str] | None = None) -> dict[str, Path]:
        """Every upstream fixture variant, remade from `values` (default: upstream's plaintext)."""
        values = upstream_values() if values is None else values
        directory.mkdir(parents=True, exist_ok=True)
        plain = secret_text(values)
        files = {"plain": directory / "plain.yaml"}
        files["plain"].write_text(plain)
        good = self.encrypt_text(plain, directory / "good.enc.yaml")
        files["good"] = good
        files["partial"] = self.encrypt_text(plain, directory / "partial.enc.yaml", PARTIAL_REGEX)
        text = good.read_text()
        edits = {
            "tampered-plaintext": _replace_value(
                text, "grafana-admin-password", _quoted(values["grafana-admin-password"])
            ),
            "tampered-swapped": _replace_value(text, "pushover-api-token", _value_of(text, "pushover-user-key")),
            "tampered-metadata": _add_label(text),
            "tampered-removed-key": _drop_key(text, "grafana-admin-user"),
        }
        for variant, edited in edits.items():
            files[variant] = directory / f"{variant}.enc.yaml"
            files[variant].write_text(edited)
        return files


def make_sops(directory: Path) -> Sops:
    """A new age key in `directory` (never in the repository) and a .sops.yaml that encrypts to it."""
    directory.mkdir(parents=True, exist_ok=True)
    key_file = directory / "age-key.txt"
    proc = subprocess.run(
        [tool("age-keygen"), "-o", str(key_file)], capture_output=True, text=True, timeout=60, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"age-keygen failed with rc {proc.returncode}: {proc.stderr.strip()[:300]}")
    recipient = next(
        line.split(":", 1)[1].strip() for line in key_file.read_text().splitlines() if line.startswith("# public key:")
    )
    config = directory / ".sops.yaml"
    config.write_text(
        yaml.safe_dump({"creation_rules": [{"encrypted_regex": ENCRYPTED_REGEX, "age": recipient}]}, sort_keys=False)
    )
    return Sops(tool("sops"), key_file, recipient, config)


# --- hand edits of an encrypted file, as a person with an editor (and no key) makes them ----------


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _key_line(lines: list[str], key: str) -> int:
    return next(i for i, line in enumerate(lines) if line.lstrip().startswith(f"{key}: "))


def _value_of(text: str, key: str) -> str:
    lines = text.splitlines()
    return lines[_key_line(lines, key)].split(": ", 1)[1]


def _replace_value(text: str, key: str, new_value: str) -> str:
    lines = text.splitlines(keepends=True)
    index = _key_line(lines, key)
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines[index] = f"{indent}{key}: {new_value}\n"
    return "".join(lines)


def _drop_key(text: str, key: str) -> str:
    lines = text.splitlines(keepends=True)
    del lines[_key_line(lines, key)]
    return "".join(lines)


def _add_label(text: str) -> str:
    """A label added under metadata after encryption: covered by the MAC, invisible without the key."""
    lines = text.splitlines(keepends=True)
    index = _key_line(lines, "name")
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines.insert(index + 1, f"{indent}labels:\n{indent}{indent}edited: by-hand\n")
    return "".join(lines)
