"""Terraform, the engine: the binary and provider mirror (:mod:`.binary`), the work directory (:mod:`.workspace`),
the ``-json`` stream (:mod:`.stream`), running one command (:mod:`.invocation`), the commands (:mod:`.command`), the
plan and state readers (:mod:`.tfjson`), the HCL read before ``init`` (:mod:`.tfconfig`), the S3 backend config
(:mod:`.backend`), what ``init`` recorded in a work directory (:mod:`.initialised`), the lock (:mod:`.lock`), the
state bucket's bootstrap (:mod:`.bootstrap`), whether a held lock is stale (:mod:`.stalelock`), what an interrupted
apply left (:mod:`.interrupted`) and planning the working configuration (:mod:`.planning`).

May import: :mod:`runbook.aws` and the base modules. Never the steps, cost, execution, publish or the CLI.
Within the package, from the bottom: binary, workspace, stream, tfjson, initialised, stalelock → lock → backend →
bootstrap, invocation → command → interrupted → planning (import-linter checks that no cycle appears).
"""
