"""Hotline config files: YAML with line numbers, validated into frozen typed objects."""
from ivr.config.errors import ConfigError, ConfigErrors
from ivr.config.load import Config, load_config, load_text

__all__ = ["Config", "ConfigError", "ConfigErrors", "load_config", "load_text"]
