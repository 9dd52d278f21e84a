"""The ``runbook`` command's sub-commands, which :mod:`runbook.cli` gathers into its group: the options and
error reporting they share (:mod:`.common`), running the notebooks and the local tools (``run``, ``emulator``,
``lab``, ``docs``: :mod:`.local`) and working on an environment's infrastructure (``cost``, ``drift``, ``destroy``,
``recover``: :mod:`.infrastructure`).

May import: every layer below the CLI (:mod:`runbook.publish` down to the base modules) and click/rich; the layers a
command alone needs are imported inside it (CLI start-up). Never :mod:`runbook.cli`.
"""
