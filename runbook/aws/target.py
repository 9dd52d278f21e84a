"""AWS clients for a target: real AWS (the usual credential chain) or an emulator endpoint.

An endpoint decides the target. An empty ``endpoint_url`` means the standard resolution: ``AWS_ENDPOINT_URL`` if
set, else real AWS with the profile / SSO / environment credentials boto3 finds. Any endpoint means an emulator:
dummy credentials are used when none are configured.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlparse

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

from runbook.errors import EndpointUnreachable

#: Credentials an emulator accepts; never real ones. moto maps this key to its default account.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
#: botocore's standard retry mode: exponential backoff with jitter on throttling and 5xx, bounded attempts.
RETRY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 8},
    connect_timeout=5,
    read_timeout=60,
)


@dataclass(frozen=True)
class Target:
    """Where AWS calls go: ``endpoint_url`` (an emulator) or ``None`` (real AWS), and the region."""

    region: str
    endpoint_url: str | None = None
    profile: str | None = None
    _clients: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def resolve(cls, region: str, endpoint_url: str = "", profile: str | None = None) -> "Target":
        """The target a notebook parameter set means: an explicit endpoint, else ``AWS_ENDPOINT_URL``, else AWS."""
        endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        return cls(region=region, endpoint_url=endpoint, profile=profile or None)

    @property
    def is_emulator(self) -> bool:
        return self.endpoint_url is not None

    @property
    def label(self) -> str:
        return "emulator" if self.is_emulator else "AWS"

    @cached_property
    def session(self) -> boto3.session.Session:
        kwargs: dict = {"region_name": self.region}
        if self.profile:
            kwargs["profile_name"] = self.profile
        session = shared_session(**kwargs)
        if self.is_emulator and session.get_credentials() is None:
            session = shared_session(
                region_name=self.region,
                aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            )
        return session

    def client(self, service: str, config: Config | None = None):
        """A (cached) boto3 client for ``service`` on this target, with standard retries."""
        # keyed by the options, not the object: callers pass a fresh Config each time (and an id can be reused)
        key = (service, tuple(repr(getattr(config, name)) for name in Config.OPTION_DEFAULTS) if config else ())
        if key not in self._clients:
            self._clients[key] = self.session.client(
                service,
                endpoint_url=self.endpoint_url,
                config=RETRY_CONFIG.merge(config) if config else RETRY_CONFIG,
            )
        return self._clients[key]

    def resource(self, service: str):
        return self.session.resource(service, endpoint_url=self.endpoint_url, config=RETRY_CONFIG)

    def check_reachable(self, timeout: float = 3.0) -> None:
        """Fail fast, naming the endpoint, when an emulator endpoint does not accept connections."""
        if not self.is_emulator:
            return
        check_endpoint(self.endpoint_url, timeout)


_LOADER = None
_LOADER_LOCK = threading.Lock()


def shared_session(**kwargs) -> boto3.session.Session:
    """A boto3 session whose botocore data loader (service models, endpoints: compressed JSON that takes 0.05-0.1 s
    per service to read) is the process's one: a session per target and per thread, each reading every model
    again, cost a notebook about 0.3 s. The loader only caches read-only files; sessions stay separate."""
    global _LOADER

    with _LOADER_LOCK:
        core = botocore.session.get_session()
        if _LOADER is None:
            _LOADER = botocore.loaders.create_loader(core.get_config_variable("data_path"))
        core.register_component("data_loader", _LOADER)
        session = boto3.session.Session(botocore_session=core, **kwargs)
        _LOADER.search_paths[:] = dict.fromkeys(_LOADER.search_paths)  # boto3 appends its own on every session
    return session


def check_endpoint(endpoint_url: str, timeout: float = 3.0) -> None:
    """Open (and close) a TCP connection to ``endpoint_url``; raise :class:`EndpointUnreachable` if it fails."""
    parsed = urlparse(endpoint_url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            pass
    except OSError as error:
        raise EndpointUnreachable(endpoint_url, str(error) or type(error).__name__) from None


def caller_identity(target: Target) -> dict:
    """STS GetCallerIdentity: the account, user or role ARN the calls run as."""
    identity = target.client("sts").get_caller_identity()
    return {"account": identity["Account"], "arn": identity["Arn"], "user_id": identity["UserId"]}
