"""Configuration: environment over guidepath.toml over defaults; unsafe setups refused."""

import pytest

from guidepath.core.config import ConfigError, load_config, redact_url

KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


def test_embedded_defaults(tmp_path):
    config = load_config({}, data_dir=tmp_path)
    assert config.embedded and config.base_domain == "localhost"
    assert config.global_database_url == f"sqlite:///{(tmp_path / 'global.sqlite').resolve()}"


def test_server_mode_refuses_to_start_without_a_master_key(tmp_path):
    env = {"GUIDEPATH_DATABASE_URL": "postgresql+psycopg://u@db/g"}
    with pytest.raises(ConfigError, match="GUIDEPATH_MASTER_KEY is required"):
        load_config(env, data_dir=tmp_path)
    assert not load_config({**env, "GUIDEPATH_MASTER_KEY": KEY}, data_dir=tmp_path).embedded


def test_environment_beats_the_file(tmp_path):
    (tmp_path / "guidepath.toml").write_text('base_domain = "from-file.example"\nredis_url = "redis://file"\n')
    config = load_config({"GUIDEPATH_BASE_DOMAIN": "from-env.example"}, data_dir=tmp_path)
    assert config.base_domain == "from-env.example" and config.redis_url == "redis://file"


@pytest.mark.parametrize("content, message", [
    ("base_domain = ", "guidepath.toml"),
    ("colour = 'red'", "unknown settings"),
])
def test_bad_config_file_is_named(tmp_path, content, message):
    (tmp_path / "guidepath.toml").write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_config({}, data_dir=tmp_path)


def test_bad_values_name_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="GUIDEPATH_WEBHOOKS_ALLOW_PRIVATE must be 1 or 0"):
        load_config({"GUIDEPATH_WEBHOOKS_ALLOW_PRIVATE": "maybe"}, data_dir=tmp_path)
    with pytest.raises(ConfigError, match="GUIDEPATH_MAX_REQUEST_BYTES must be an integer"):
        load_config({"GUIDEPATH_MAX_REQUEST_BYTES": "big"}, data_dir=tmp_path)


def test_redaction_hides_secrets(tmp_path):
    config = load_config({"GUIDEPATH_MASTER_KEY": KEY,
                          "GUIDEPATH_DATABASE_URL": "postgresql+psycopg://gp:s3cret@db/g"}, data_dir=tmp_path)
    shown = config.redacted()
    assert KEY not in str(shown) and "s3cret" not in str(shown)
    assert shown["database_url"] == "postgresql+psycopg://gp:********@db/g"
    assert redact_url("redis://cache:6379/0") == "redis://cache:6379/0"


def test_the_retired_relay_url_is_ignored_with_a_warning(tmp_path, caplog):
    # There is no relay address to configure: the in-process relay picks its ports at
    # start-up and `guidepath relay` processes register themselves. An older
    # guidepath.toml naming relay_url still loads.
    (tmp_path / "guidepath.toml").write_text('relay_url = "tcp://127.0.0.1:7600"\nbase_domain = "example.com"\n')
    with caplog.at_level("WARNING", logger="guidepath.config"):
        config = load_config({"GUIDEPATH_RELAY_URL": "tcp://relay:7600"}, data_dir=tmp_path)
    assert config.base_domain == "example.com"
    assert not hasattr(config, "relay_url") and "relay_url" not in config.redacted()
    assert "picked at start-up" in config.relays
    warnings = [r.getMessage() for r in caplog.records if r.name == "guidepath.config"]
    assert len(warnings) == 2 and all("no longer used" in w for w in warnings), warnings
