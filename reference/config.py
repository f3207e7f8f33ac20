"""Configuration from the environment, read per invocation so a missing value is a clean answer."""

from __future__ import annotations

import os
from collections.abc import Mapping

import attrs

DEFAULT_TTL_SECONDS = 604_800


class ConfigError(Exception):
    """The function is deployed without what it needs; answered as SYSTEM_ERROR, logged in full."""


@attrs.frozen
class Settings:
    table_name: str
    queue_url: str
    ttl_seconds: int = DEFAULT_TTL_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        missing = [name for name in ("MESSAGES_TABLE", "MESSAGES_QUEUE_URL") if not env.get(name)]
        if missing:
            raise ConfigError(f"missing environment variables: {', '.join(missing)}")
        raw_ttl = env.get("MESSAGE_TTL_SECONDS", "").strip()
        ttl = DEFAULT_TTL_SECONDS
        if raw_ttl:
            try:
                ttl = int(raw_ttl)
            except ValueError:
                raise ConfigError(f"MESSAGE_TTL_SECONDS is not an integer: {raw_ttl!r}") from None
            if ttl <= 0:
                raise ConfigError(f"MESSAGE_TTL_SECONDS must be positive, got {ttl}")
        return cls(env["MESSAGES_TABLE"], env["MESSAGES_QUEUE_URL"], ttl)
