"""Imported by a warm kernel at boot (:func:`runbook.kernels._boot_arguments`): the work every runbook's first
cells would otherwise do on the critical path, done while the previous notebook still runs; then :func:`imports`
imports the modules the kernel's notebook imports.

- python-hcl2's parser (``open_context`` reads the working tfvars with it): loading its grammar costs ~0.25 s.
- botocore's models of the services every runbook calls (S3 for the state's version, STS, DynamoDB, CloudWatch):
  each is compressed JSON that takes 0.05-0.1 s to read; :func:`runbook.aws.target.shared_session` shares what is
  read here with every session of the process.
- pandas' Styler templates (every runbook shows its tables through one): compiled on the first render.
- when the notebook imports pyplot: the kernel's matplotlib backend (ipykernel's inline one, named in
  ``MPLBACKEND``), which pyplot would load at the notebook's first figure (0.1 s).

Nothing here calls AWS or binds a name in the notebook's namespace.
"""

from __future__ import annotations

import importlib
import sys

import hcl2.parser
import pandas

from runbook.aws.target import shared_session

#: The services whose models are read at boot.
SERVICES = ("s3", "sts", "dynamodb", "cloudwatch")


def _warm() -> None:
    hcl2.parser.parser()
    pandas.DataFrame({"warm": [1]}).style.hide(axis="index").to_html()
    session = shared_session(region_name="us-east-1", aws_access_key_id="warm", aws_secret_access_key="warm")
    for service in SERVICES:
        session.client(service)  # reads the service's model and endpoint rules; makes no call


def imports(modules: tuple[str, ...]) -> None:
    """Import each of ``modules`` that is a module (``from a import b`` may name a function: skipped)."""
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 (not a module; or one that fails, which its cell then shows)
            pass
    if "matplotlib.pyplot" in sys.modules:
        pyplot = sys.modules["matplotlib.pyplot"]
        pyplot.switch_backend(pyplot.rcParams["backend"])  # what pyplot does at the first figure


_warm()
