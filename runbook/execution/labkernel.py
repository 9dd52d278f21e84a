"""What runs inside the kernels of ``runbook lab`` (an IPython extension its kernelspec loads).

- The lab's environment is in ``$RUNBOOK_LAB_ENVIRONMENT`` (set by the lab's kernelspec, not in its terminals).
  :func:`runbook.params.lab_environment_check` (called by :func:`runbook.steps.context.open_context`, before any
  AWS call) refuses a notebook whose ``environment`` parameter names another one: the lab's emulator, work
  directory and tfvars are its environment's.
- The first cell a kernel runs shows a banner naming the environment; production's is red, so that a production
  lab cannot be mistaken for staging.
"""

from __future__ import annotations

import html

from IPython.display import display

from runbook.params import lab_environment


def banner(environment: str) -> tuple[str, str]:
    """The banner as HTML and as text."""
    production = environment == "production"
    text = (
        "PRODUCTION lab: these runbooks act on production's configuration (on this lab's emulator)"
        if production
        else f"{environment} lab (on this lab's emulator)"
    )
    style = (
        "background:#b71c1c;color:#fff;font-weight:bold;padding:6px 10px;border-radius:3px"
        if production
        else "background:#e8eef7;color:#1a3a6b;padding:4px 10px;border-radius:3px"
    )
    return f'<div class="runbook-lab-banner" style="{style}">{html.escape(text)}</div>', text


def load_ipython_extension(ip) -> None:
    environment = lab_environment()
    if not environment:
        return
    shown = []

    def first_cell(info=None) -> None:
        if shown:
            return
        shown.append(True)

        markup, text = banner(environment)
        display({"text/html": markup, "text/plain": text}, raw=True)

    ip.events.register("pre_run_cell", first_cell)
