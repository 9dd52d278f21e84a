"""The AWS side: the target and its clients (:mod:`.target`), the embedded emulator (:mod:`.emulator`) and its moto
gap fills (:mod:`.fills`), the S3 state bucket as S3 reports it (:mod:`.statebucket`), what a failed AWS call means and
probing an API an endpoint may lack (:mod:`.apierrors`), the live tables (:mod:`.discovery`) and their CloudWatch
metrics (:mod:`.metrics`).

May import: the base modules (``runbook.errors``, ``paths``, ``checks``, ``spec`` …) and boto3/moto. Never
Terraform, the steps or anything above.
"""
