"""Loading one typed settings object per service from YAML + environment.

Precedence, highest first: environment variables, the YAML file, defaults. A bad value
stops start-up with a message naming the key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsError

S = TypeVar("S", bound="ServiceSettings")
_FIELD = re.compile(r'field "([^"]+)"')


class ConfigurationError(SystemExit):
    """Raised at start-up; exits the process with a readable message instead of a traceback."""


class ServiceSettings(BaseSettings):
    """Base of every service's settings; subclasses set `env_prefix` in `model_config`."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The YAML file arrives as init arguments; the environment must still win over it.
        return env_settings, init_settings, file_secret_settings

    @classmethod
    def load(cls: type[S], config_file: Path | None = None, **overrides: Any) -> S:
        values: dict[str, Any] = {}
        if config_file is not None:
            values = _read_yaml(config_file)
        values.update(overrides)
        try:
            return cls(**values)
        except ValidationError as exc:
            prefix = cls.model_config.get("env_prefix", "")
            problems = "; ".join(_describe(err["loc"], err["msg"], prefix) for err in exc.errors())
            raise ConfigurationError(f"invalid configuration: {problems}") from None
        except SettingsError as exc:
            # A structured value (a JSON object or list) in the environment that is not JSON.
            prefix = cls.model_config.get("env_prefix", "")
            field = _FIELD.search(str(exc))
            name = f"{prefix}{field.group(1).upper()}" if field else "a variable"
            raise ConfigurationError(f"invalid configuration: env {name} is not JSON") from None


def _describe(loc: tuple[int | str, ...], message: str, prefix: str) -> str:
    if not loc:  # a rule over several fields
        return message
    return f"{'.'.join(str(p) for p in loc)} (env {prefix}{str(loc[0]).upper()}): {message}"


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"cannot read configuration file {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"configuration file {path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"configuration file {path} must hold a mapping at the top")
    return data
