"""runbook.hcl: the one HCL reader (one option set, the file named in errors, parses cached by path, time and size)."""

from __future__ import annotations

import os

import pytest

from runbook import hcl
from runbook.errors import ConfigurationError

TFVARS = r"""# a comment
aws_region  = "us-east-1" # inline comment
escaped     = "say \"hi\"\\n"
interpolate = "x-${var.y}"
count       = 5
ratio       = 1.5
enabled     = true
nothing     = null
names       = ["a", "b"]
common_tags = {
  Environment  = "staging"
  "Cost Centre" = "42"
}
reference   = var.region
text = <<EOT
two "lines"
EOT
"""

TF = """variable "x" {
  type    = list(string)
  default = ["a"]
  validation {
    condition     = length(var.x) > 0
    error_message = "x must not be empty."
  }
}

resource "aws_s3_bucket" "b" {
  bucket = "name"
}
"""


def test_values_are_plain_python(tmp_path):
    path = tmp_path / "terraform.tfvars"
    path.write_text(TFVARS)
    assert hcl.read(path) == {
        "aws_region": "us-east-1",
        "escaped": 'say "hi"\\n',
        "interpolate": "x-${var.y}",
        "count": 5,
        "ratio": 1.5,
        "enabled": True,
        "nothing": None,
        "names": ["a", "b"],
        "common_tags": {"Environment": "staging", "Cost Centre": "42"},
        "reference": "${var.region}",
        "text": 'two "lines"',
    }


def test_blocks_are_lists_of_dicts_and_expressions_keep_their_wrapper(tmp_path):
    path = tmp_path / "variables.tf"
    path.write_text(TF)
    assert hcl.read(path) == {
        "variable": [
            {
                "x": {
                    "type": "${list(string)}",
                    "default": ["a"],
                    "validation": [{"condition": "${length(var.x) > 0}", "error_message": "x must not be empty."}],
                }
            }
        ],
        "resource": [{"aws_s3_bucket": {"b": {"bucket": "name"}}}],
    }


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    path = tmp_path / "backend.hcl"
    path.write_text('bucket = "b"\nkey = = "k"\n')
    with pytest.raises(ConfigurationError) as caught:
        hcl.read(path)
    assert caught.value.path == str(path) and caught.value.line == 2
    assert str(caught.value).startswith(f"{path}:2: cannot parse as HCL: ")


@pytest.mark.parametrize(
    "case, message", [("missing", "file not found"), ("directory", "is a directory"), ("binary", "not a text file")]
)
def test_a_file_that_is_not_hcl_text_is_named(tmp_path, case, message):
    path = tmp_path / "x.tfvars"
    if case == "directory":
        path.mkdir()
    elif case == "binary":
        path.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(ConfigurationError, match=message) as caught:
        hcl.read(path)
    assert caught.value.path == str(path)


def test_parses_are_cached_until_the_file_changes_and_callers_get_their_own_copy(tmp_path, monkeypatch):
    path = tmp_path / "terraform.tfvars"
    path.write_text('names = ["a"]\n')
    parses = []
    loads = hcl.hcl2.loads
    monkeypatch.setattr(hcl.hcl2, "loads", lambda *args, **kwargs: parses.append(1) or loads(*args, **kwargs))

    first = hcl.read(path)
    first["names"].append("changed by the caller")
    assert hcl.read(path) == {"names": ["a"]} and len(parses) == 1

    stat = path.stat()
    path.write_text('names = ["b"]\n')  # same size: the new modification time makes it a new entry
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert hcl.read(path) == {"names": ["b"]} and len(parses) == 2
