"""Operator's runbook for the user-notifications DynamoDB table.

The package holds the logic behind the notebooks in ``notebooks/`` and the ``runbook`` command.
Notebooks stay thin: narrative, parameters, calls into these modules, results.
"""

__version__ = "0.1.0"
