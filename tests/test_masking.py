"""runbook.publish.masking: the one function that decides what never gets published."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from runbook.publish.masking import (
    ACCESS_KEY_ID,
    ACCOUNT_ID,
    ENDPOINT,
    SECRET_ACCESS_KEY,
    SESSION_TOKEN,
    mask,
    mask_notebook,
)

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
TEMP_KEY = "ASIAQWERTYUIOP123456"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD6example+token/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
REAL_ACCOUNT = "210987654321"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ACCOUNT_ID",
        "MOTO_ACCOUNT_ID",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"key {ACCESS_KEY} here", f"key {ACCESS_KEY_ID} here"),
        (f"'AccessKeyId': '{TEMP_KEY}'", f"'AccessKeyId': '{ACCESS_KEY_ID}'"),
        (f"aws_secret_access_key = {SECRET}", f"aws_secret_access_key = {SECRET_ACCESS_KEY}"),
        ("export AWS_SECRET_ACCESS_KEY=testing", f"export AWS_SECRET_ACCESS_KEY={SECRET_ACCESS_KEY}"),
        ('{"SecretAccessKey": "abc/def+ghi"}', f'{{"SecretAccessKey": "{SECRET_ACCESS_KEY}"}}'),
        (f"AWS_SECRET_ACCESS_KEY    {SECRET}", f"AWS_SECRET_ACCESS_KEY    {SECRET_ACCESS_KEY}"),
        (f"a bare secret {SECRET} by its shape", f"a bare secret {SECRET_ACCESS_KEY} by its shape"),
        (f"aws_session_token={TOKEN}", f"aws_session_token={SESSION_TOKEN}"),
        (f"'SessionToken': '{TOKEN}'", f"'SessionToken': '{SESSION_TOKEN}'"),
        (f"token by shape {TOKEN} end", f"token by shape {SESSION_TOKEN} end"),
        ("http://127.0.0.1:5000/moto-api/reset", f"{ENDPOINT}/moto-api/reset"),
        ("AWS_ENDPOINT_URL=http://localhost:4566", f"AWS_ENDPOINT_URL={ENDPOINT}"),
        ("emulator at 127.0.0.1:39811.", f"emulator at {ENDPOINT}."),
        ("https://[::1]:8443/x and http://0.0.0.0:80", f"{ENDPOINT}/x and {ENDPOINT}"),
        ("http://moto:5000 and http://emulator.internal:4566/", f"{ENDPOINT} and {ENDPOINT}/"),
        ("arn:aws:dynamodb:us-east-1:123456789012:table/t", f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/t"),
        (f"arn:aws:iam::{REAL_ACCOUNT}:policy/p", f"arn:aws:iam::{ACCOUNT_ID}:policy/p"),
        (f"arn:aws-us-gov:sts::{REAL_ACCOUNT}:assumed-role/r/s", f"arn:aws-us-gov:sts::{ACCOUNT_ID}:assumed-role/r/s"),
        (f"{{'Account': '{REAL_ACCOUNT}'}}", f"{{'Account': '{ACCOUNT_ID}'}}"),
        (f"account_id = {REAL_ACCOUNT}", f"account_id = {ACCOUNT_ID}"),
        (f"<th>Account</th>\n  <td>{REAL_ACCOUNT}</td>", f"<th>Account</th>\n  <td>{ACCOUNT_ID}</td>"),
        ("moto's 123456789012 anywhere", f"moto's {ACCOUNT_ID} anywhere"),
        (
            f"Account  Arn\n{REAL_ACCOUNT}  arn:aws:iam::{REAL_ACCOUNT}:root",
            f"Account  Arn\n{ACCOUNT_ID}  arn:aws:iam::{ACCOUNT_ID}:root",
        ),
    ],
)
def test_masks(text, expected):
    assert mask(text) == expected
    assert mask(expected) == expected  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        "https://dynamodb.us-east-1.amazonaws.com",
        "arn:aws:dynamodb:us-east-1:<account-id>:table/staging-user-notifications",
        "set aws_secret_access_key in your profile",
        "the secret key is never printed",
        "testing the table; 1234567890123 is a timestamp; 98765432101 is not an account",
        "commit 3f1c9a0e5b7d2c4e6a8b0d1f3e5c7a9b1d3f5e7a",  # 40 hex characters, not a secret key
        "staging-user-notifications PAY_PER_REQUEST NEW_AND_OLD_IMAGES",
        "documentation: http://127.0.0.1:<port>/lab?token=<token> or http://127.0.0.1:&lt;port&gt; or :PORT",
        "",
    ],
)
def test_leaves_ordinary_text(text):
    assert mask(text) == text


def test_masks_the_process_own_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ANYSHAPEKEYID0123")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-base64-shaped-secret!")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "short-lived-token-value")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://dynamodb.example.test")
    text = "ANYSHAPEKEYID0123 / not-base64-shaped-secret! / short-lived-token-value at https://dynamodb.example.test/"
    assert mask(text) == f"{ACCESS_KEY_ID} / {SECRET_ACCESS_KEY} / {SESSION_TOKEN} at {ENDPOINT}/"


def test_short_dummy_credentials_do_not_mangle_prose(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert mask("testing the emulator") == "testing the emulator"


def notebook():
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Title\nThe endpoint is `http://127.0.0.1:5000`."),
            new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
            new_code_cell(
                "print(identity)",
                outputs=[
                    new_output("stream", name="stdout", text=f"{ACCESS_KEY} {REAL_ACCOUNT}\n"),
                    new_output(
                        "execute_result",
                        execution_count=2,
                        data={
                            "text/plain": f"Account  Arn\n{REAL_ACCOUNT} arn:aws:iam::{REAL_ACCOUNT}:user/x",
                            "text/html": f"<table><tr><td>{REAL_ACCOUNT}</td><td>http://localhost:4566</td></tr></table>",
                            "application/json": {"Endpoint": "http://127.0.0.1:4566", "Nested": [f"{TEMP_KEY}"]},
                            "image/png": "iVBORw0KGgoAAAANSUhEUgAKIAIOSFODNN7EXAMPLE",
                        },
                    ),
                    new_output(
                        "error",
                        ename="EndpointConnectionError",
                        evalue='Could not connect to the endpoint URL: "http://127.0.0.1:1234/"',
                        traceback=[f"aws_secret_access_key={SECRET}"],
                    ),
                ],
            ),
        ]
    )
    nb.metadata["papermill"] = {"parameters": {"aws_endpoint_url": "http://127.0.0.1:4566"}}
    return nb


def test_mask_notebook_masks_every_text_and_keeps_the_original():
    original = notebook()
    before = json.dumps(original)
    masked = mask_notebook(original)
    assert json.dumps(original) == before, "the input notebook must not be modified"
    nbformat.validate(masked)
    text = json.dumps({k: v for k, v in masked.items()})
    for secret in (ACCESS_KEY, TEMP_KEY, SECRET, REAL_ACCOUNT, "127.0.0.1", "localhost"):
        assert secret not in text.replace("iVBORw0KGgoAAAANSUhEUgAKIAIOSFODNN7EXAMPLE", ""), secret
    outputs = masked.cells[2].outputs
    # an account id seen in an ARN anywhere in the notebook is masked everywhere, e.g. in the stream output
    assert outputs[0]["text"] == f"{ACCESS_KEY_ID} {ACCOUNT_ID}\n"
    # placeholders stay visible in HTML
    assert "&lt;account-id&gt;" in outputs[1]["data"]["text/html"]
    assert "&lt;endpoint&gt;" in outputs[1]["data"]["text/html"]
    assert outputs[1]["data"]["application/json"] == {"Endpoint": ENDPOINT, "Nested": [ACCESS_KEY_ID]}
    # images are data, not text: left alone
    assert outputs[1]["data"]["image/png"] == "iVBORw0KGgoAAAANSUhEUgAKIAIOSFODNN7EXAMPLE"
    assert outputs[2]["evalue"] == f'Could not connect to the endpoint URL: "{ENDPOINT}/"'
    assert masked.metadata["papermill"]["parameters"]["aws_endpoint_url"] == ENDPOINT
    assert masked.cells[0].source == "# Title\nThe endpoint is `<endpoint>`."


def test_mask_notebook_accepts_list_sources():
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": ["url = 'http://127.0.0.1:", "5000'\n"],
                "outputs": [{"output_type": "stream", "name": "stdout", "text": ["a\n", ACCESS_KEY]}],
            }
        ],
        "metadata": {},
    }
    masked = mask_notebook(nb)
    assert "".join(masked["cells"][0]["source"]) == "url = '<endpoint>'\n"
    assert "".join(masked["cells"][0]["outputs"][0]["text"]) == f"a\n{ACCESS_KEY_ID}"


def test_placeholders_stay_visible_in_markdown():
    nb = new_notebook(
        cells=[
            new_markdown_cell("Plain http://127.0.0.1:5000, code `http://127.0.0.1:5000`"),
            new_code_cell(
                "show()",
                outputs=[
                    new_output(
                        "display_data",
                        data={
                            "text/markdown": (
                                "**Target**: emulator at http://localhost:4566 (`arn:aws:iam::123456789012:root`)"
                            ),
                            "text/plain": "<IPython.core.display.Markdown object>",
                        },
                    )
                ],
            ),
        ]
    )
    masked = mask_notebook(nb)
    assert masked.cells[0].source == "Plain &lt;endpoint&gt;, code `<endpoint>`"
    assert masked.cells[1].outputs[0]["data"]["text/markdown"] == (
        "**Target**: emulator at &lt;endpoint&gt; (`arn:aws:iam::<account-id>:root`)"
    )


# -- machine paths --------------------------------------------------------------------------------------------
def test_masks_machine_paths(monkeypatch, tmp_path):
    from pathlib import Path

    from runbook import paths
    from runbook.publish.masking import HOME, REPO, WORK_DIR, add_machine_path

    work = tmp_path / "elsewhere" / "work"
    add_machine_path(work)
    text = (
        f"{paths.ROOT}/build/work/staging/terraform.tfvars | {paths.ROOT}/notebooks/01-setup.ipynb | "
        f"{work}/infrastructure/staging | {Path.home()}/.terraform.d | file://{paths.ROOT}/x"
    )
    masked = mask(text)
    assert masked == (
        f"{WORK_DIR}/terraform.tfvars | {REPO}/notebooks/01-setup.ipynb | "
        f"{WORK_DIR}/infrastructure/staging | {HOME}/.terraform.d | file://{REPO}/x"
    )
    assert REPO not in mask(f"{paths.ROOT}2/other")  # whole path components only
    assert mask(masked) == masked  # idempotent


def test_masks_the_terraform_binary_and_the_provider_mirror(monkeypatch, tmp_path):
    from runbook.publish.masking import PROVIDER_MIRROR, TERRAFORM

    binary_dir = tmp_path / "opt-bin"
    binary_dir.mkdir()
    binary = binary_dir / "terraform"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io" / "hashicorp" / "aws").mkdir(parents=True)
    monkeypatch.setenv("PATH", f"{binary_dir}:/usr/bin:/bin")
    monkeypatch.setenv("RUNBOOK_TF_PLUGIN_MIRROR", str(mirror))
    text = f"Initialised with terraform ({binary}); provider from {mirror}/registry.terraform.io/hashicorp/aws"
    assert mask(text) == (
        f"Initialised with terraform ({TERRAFORM}); provider from {PROVIDER_MIRROR}/registry.terraform.io/hashicorp/aws"
    )


def test_mask_notebook_masks_planted_paths_everywhere(tmp_path):
    from runbook import paths
    from runbook.publish.masking import WORK_DIR

    work = tmp_path / "run-work"
    nb = notebook()
    nb.cells[2].outputs[0]["text"] += f"wrote {work}/staging/terraform.tfvars and {paths.ROOT}/build/x\n"
    nb.metadata["papermill"]["parameters"]["work_dir"] = str(work)
    masked = mask_notebook(nb, paths={str(work): WORK_DIR})
    text = json.dumps(masked)
    assert str(work) not in text and str(paths.ROOT) not in text
    assert f"{WORK_DIR}/staging/terraform.tfvars" in masked.cells[2].outputs[0]["text"]
    assert masked.metadata["papermill"]["parameters"]["work_dir"] == WORK_DIR


def test_placeholders_of_paths_stay_visible_in_html():
    from runbook import paths
    from runbook.publish.masking import mask_html

    assert mask_html(f"<td>{paths.ROOT}/build</td>") == "<td>&lt;repo&gt;/build</td>"
