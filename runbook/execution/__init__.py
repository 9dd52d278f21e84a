"""Running the notebooks: ``runbook run``'s runner (:mod:`.runner`, papermill's own engine; what an
interrupted run leaves marked, :mod:`.crashmarks`), the kernels booted ahead (:mod:`.kernels`, :mod:`._warm`), the
state bucket bootstrapped ahead (:mod:`.bucket_ahead`), ``runbook lab`` (:mod:`.lab`, :mod:`.labcopies`,
:mod:`.labpage`, :mod:`.labserver`, :mod:`.labkernel`), recorded results (:mod:`.record`) and how results are shown
(:mod:`.display`).

May import: :mod:`runbook.steps`, :mod:`runbook.cost`, :mod:`runbook.terraform`, :mod:`runbook.aws` and the base
modules. Never the publish or CLI layers.
"""
