"""Operator's runbook for the user-notifications DynamoDB table.

The package holds the logic behind the notebooks in ``notebooks/`` and the ``runbook`` command.
Notebooks stay thin: narrative, parameters, calls into these modules, results.

Layers, along the data flow (each imports only from the layers below it; import-linter checks it, contracts in
``pyproject.toml``), from the top:

- :mod:`runbook.cli`: the ``runbook`` command (group, entry point);
- :mod:`runbook.clicommands`: its sub-commands;
- :mod:`runbook.publish`: the site (build, masking, pages, diagrams, the module README tables);
- :mod:`runbook.execution`: running the notebooks (runner, kernels, lab, recorded results, display);
- :mod:`runbook.steps`: what each runbook calls (setup checks, review, gate and apply, drift, import, recovery,
  troubleshooting, operations);
- :mod:`runbook.cost`: the monthly cost of a plan;
- :mod:`runbook.terraform`: Terraform (binary, work directory, commands, ``-json`` stream, plan and state readers,
  HCL, backend config, lock, bootstrap, planning);
- :mod:`runbook.aws`: the target (clients, the embedded emulator and its fills, the state bucket, AWS errors, live
  tables, metrics);
- the base modules here: :mod:`~runbook.errors`, :mod:`~runbook.paths`, :mod:`~runbook.params`,
  :mod:`~runbook.workconfig`, :mod:`~runbook.spec`, :mod:`~runbook.checks`, :mod:`~runbook.markdown`,
  :mod:`~runbook.processes`, and below them :mod:`~runbook.hcl` (the one HCL reader: tfvars, backend config and
  ``.tf`` files are read before ``init``, by the base's working tfvars as by the layers above).
"""

__version__ = "0.1.0"
