"""What each runbook calls: 01's setup checks (:mod:`.preflight`, :mod:`.tfvarsverdict`, :mod:`.backendcheck`,
:mod:`.targetcheck`), the run's context (:mod:`.context`), 02's review, gate and apply (:mod:`.review`,
:mod:`.planview`, :mod:`.gate`, :mod:`.deploy`, :mod:`.recovery`), drift (:mod:`.drift`; values compared as the
provider means them: :mod:`.providervalues`), 03's import and recovery (:mod:`.importing`, :mod:`.interrupted`),
04's troubleshooting (:mod:`.diagnostics`, :mod:`.highcosts`, :mod:`.safeguards`, :mod:`.replicas`) and 06's
operations (:mod:`.operations`, :mod:`.drills`, :mod:`.smoketest`; their test items are written with
:mod:`.writes`).

May import: :mod:`runbook.cost`, :mod:`runbook.terraform`, :mod:`runbook.aws` and the base modules. Never the
execution, publish or CLI layers.
"""
