"""The embedded AWS emulator: moto's server mode on loopback and a free port.

Used by ``runbook run``, ``runbook emulator``, ``runbook lab`` and the tests::

    with Emulator() as emu:
        os.environ.update(emu.environment())
"""

from __future__ import annotations

import logging
import urllib.request

#: Credentials the emulator accepts; never real ones. moto maps this key to its default account.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
LOOPBACK = "127.0.0.1"


class Emulator:
    """moto's ThreadedMotoServer on 127.0.0.1; ``port=0`` (the default) picks a free port.

    moto keeps its state per process: emulators started in one process share it (and ``reset`` wipes it for all).
    """

    def __init__(self, port: int = 0, region: str = "us-east-1"):
        self.port = port
        self.region = region
        self._server = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def start(self) -> "Emulator":
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # no request log, no tracebacks for 500s
        fill_moto_gaps()
        self._server = ThreadedMotoServer(ip_address=LOOPBACK, port=self.port, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        """Wipe every resource the emulator holds."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()

    def environment(self) -> dict[str, str]:
        """The variables that point boto3, the AWS CLI and Terraform's provider at this emulator."""
        return emulator_environment(self.endpoint_url, self.region)

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def emulator_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """Environment variables for a client of the emulator at ``endpoint_url``: endpoint, dummy keys, region."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        **DUMMY_CREDENTIALS,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


def export_lines(environment: dict[str, str]) -> list[str]:
    """Shell ``export`` lines for ``environment``."""
    return [f"export {name}={value}" for name, value in environment.items()]


def fill_moto_gaps() -> None:
    """Add the few APIs Terraform's AWS provider needs that moto lacks.

    EC2 ``MonitorInstances``/``UnmonitorInstances`` (an instance with detailed monitoring calls them): they set
    the instance's monitoring state. moto 5.2 also does not implement Application Auto Scaling's ``TagResource``/``UntagResource``/
    ``ListTagsForResource``; the provider calls ``ListTagsForResource`` after registering every scalable target
    and retries for ten minutes when it fails. Tags are kept per target ARN. Idempotent.
    """
    import json

    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    if getattr(ApplicationAutoScalingResponse, "_runbook_tags", False):
        return

    def tag_store(self) -> dict:
        backend = self.applicationautoscaling_backend
        if not hasattr(backend, "runbook_tags"):
            backend.runbook_tags = {}
        return backend.runbook_tags

    def list_tags_for_resource(self) -> str:
        return json.dumps({"Tags": tag_store(self).get(self._get_param("ResourceARN"), {})})

    def tag_resource(self) -> str:
        tag_store(self).setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
        return json.dumps({})

    def untag_resource(self) -> str:
        tags = tag_store(self).setdefault(self._get_param("ResourceARN"), {})
        for key in self._get_param("TagKeys") or []:
            tags.pop(key, None)
        return json.dumps({})

    original_register = ApplicationAutoScalingResponse.register_scalable_target

    def register_scalable_target(self) -> str:
        body = original_register(self)
        if self._get_param("Tags"):
            arn = json.loads(body)["ScalableTargetARN"]
            tag_store(self).setdefault(arn, {}).update(self._get_param("Tags"))
        return body

    _fill_ec2_monitoring()
    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource
    ApplicationAutoScalingResponse.tag_resource = tag_resource
    ApplicationAutoScalingResponse.untag_resource = untag_resource
    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target
    ApplicationAutoScalingResponse._runbook_tags = True


def _fill_ec2_monitoring() -> None:
    from moto.core.responses import ActionResult
    from moto.ec2.responses.monitoring import Monitoring

    def change(self, state: str) -> ActionResult:
        self.error_on_dryrun()
        instances = []
        for instance_id in self._get_param("InstanceIds", []):
            instance = self.ec2_backend.get_instance(instance_id)
            instance.monitoring_state = state
            instances.append({"InstanceId": instance_id, "Monitoring": {"State": state}})
        return ActionResult({"InstanceMonitorings": instances})

    Monitoring.monitor_instances = lambda self: change(self, "enabled")
    Monitoring.unmonitor_instances = lambda self: change(self, "disabled")
