"""The site: ``runbook docs`` (:mod:`.docs`, :mod:`._mkdocs`), masking what is published (:mod:`.masking`), the
architecture diagrams drawn from Terraform (:mod:`.architecture`) and the module README tables (:mod:`.tfdocs`).

May import every layer below it (execution, steps, cost, Terraform, AWS, the base modules); never the CLI.
"""
