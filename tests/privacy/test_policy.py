"""The privacy policy as a value: safe defaults, TOML config, refusals naming the key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from creatorlens.errors import UserError
from creatorlens.privacy import (
    DEFAULT_POLICY,
    AnalyticsAccountError,
    PolicyError,
    PrivacyPolicy,
    load_policy,
    require_analytics_account,
)


def test_defaults_are_the_documented_ones() -> None:
    p = load_policy(None)
    assert p == DEFAULT_POLICY == PrivacyPolicy()
    assert (p.k_min, p.cell_min, p.top_n) == (100, 10, 45)
    assert (p.minor_majority, p.min_window_days, p.view_threshold_ms) == (0.5, 1, 3_000)
    assert p.noise_scale == 2.0
    assert p.noise_bound == 8  # ceil(4 * 2.0)


def test_policy_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_POLICY.k_min = 1  # type: ignore[misc]


def test_privacy_table_overrides_only_the_keys_it_names(tmp_path: Path) -> None:
    config = tmp_path / "creatorlens.toml"
    config.write_text('[store]\npath = "x.duckdb"\n\n[privacy]\nk_min = 500\ntop_n = 10\n')
    assert load_policy(config) == PrivacyPolicy(k_min=500, top_n=10)


def test_a_file_without_privacy_table_is_the_policy(tmp_path: Path) -> None:
    config = tmp_path / "policy.toml"
    config.write_text("cell_min = 20\nnoise_scale = 3\nmin_window_days = 7\n")
    p = load_policy(config)
    assert (p.cell_min, p.noise_scale, p.min_window_days, p.noise_bound) == (20, 3.0, 7, 12)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[privacy]\nkmin = 500\n", "unknown key privacy.kmin"),
        ("k_min = 1\n", "k_min = 1 is unsafe"),
        ("k_min = 0\n", "k_min = 0 is unsafe"),
        ('k_min = "100"\n', "k_min = '100': must be an integer"),
        ("k_min = 100.0\n", "k_min = 100.0: must be an integer"),
        ("k_min = true\n", "k_min = True: must be an integer"),
        ("cell_min = 1\n", "cell_min = 1 is unsafe"),
        ("k_min = 50\ncell_min = 60\n", "cell_min = 60 must not exceed k_min = 50"),
        ("top_n = 0\n", "top_n = 0 is unsafe"),
        ("minor_majority = 0.6\n", "minor_majority = 0.6 is unsafe"),
        ("minor_majority = 0\n", "minor_majority = 0 is unsafe"),
        ("min_window_days = 0\n", "min_window_days = 0 is unsafe"),
        ("noise_scale = 0.5\n", "noise_scale = 0.5 is unsafe"),
        ("noise_scale = nan\n", "noise_scale = nan: must be a number"),
        ("view_threshold_ms = 0\n", "view_threshold_ms = 0 is unsafe"),
    ],
)
def test_unknown_or_unsafe_values_are_refused_naming_the_key(
    tmp_path: Path, text: str, named: str
) -> None:
    config = tmp_path / "policy.toml"
    config.write_text(text)
    with pytest.raises(PolicyError) as e:
        load_policy(config)
    assert named in str(e.value)
    assert str(config) in str(e.value)
    assert isinstance(e.value, UserError)  # the CLI prints it as one line, exit 2


def test_an_unsafe_policy_cannot_be_built_in_code_either() -> None:
    with pytest.raises(PolicyError, match="k_min = 1 is unsafe"):
        PrivacyPolicy(k_min=1)


def test_unreadable_or_broken_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("k_min = = 3\n")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(broken)


@pytest.mark.parametrize("kind", ["creator", "business"])
def test_creator_and_business_accounts_get_analytics(kind: str) -> None:
    require_analytics_account(kind, "c1")


def test_a_personal_account_is_told_to_switch() -> None:
    with pytest.raises(AnalyticsAccountError) as e:
        require_analytics_account("personal", "u7")
    assert isinstance(e.value, UserError)
    assert (e.value.account_id, e.value.kind) == ("u7", "personal")
    message = str(e.value)
    assert "u7 is a personal account" in message
    assert "creator or business account" in message
    assert "Switch" in message
