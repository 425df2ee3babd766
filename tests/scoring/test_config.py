"""Scoring configuration: the default file, the round trip, and every rejected case."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from scoring.config import (
    DEFAULT_CONFIG_PATH,
    Cadence,
    FeatureSpec,
    LinearTransform,
    LogTransform,
    ScoringConfig,
    ScoringConfigError,
    StepTransform,
    TierCutoffs,
    config_from_dict,
    config_to_dict,
    default_config,
    load_config,
    save_config,
)
from scoring.features import FEATURE_NAMES

BASE = """\
version = "test_v1"
method = "weighted"

[tiers]
low = [0.0, 0.35]
medium = [0.35, 0.6]
high = [0.6, 1.0]

[cadence_days]
high = 30
medium = 91
low = 182

[capacity]
visits_per_month = 40

[features.age_years]
weight = 2.0
transform = "linear"
low = 65.0
high = 85.0

[features.lives_alone]
weight = 1.0
transform = "step"
threshold = 1.0

[features.crisis_signals_12m]
weight = 1.0
transform = "log"
cap = 4.0
"""


def write(tmp_path, text: str, name: str = "config.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_base_text_is_valid(tmp_path):
    config = load_config(write(tmp_path, BASE))
    assert config.version == "test_v1"
    assert config.feature_names == ("age_years", "lives_alone", "crisis_signals_12m")
    assert config.normalised_weights.tolist() == [0.5, 0.25, 0.25]
    assert config.visits_per_month == 40
    assert config.tiers.edges == (0.35, 0.6)
    assert config.source == str(tmp_path / "config.toml")


def test_default_config():
    config = default_config()
    assert config.version == "weighted_v1"
    assert config.method == "weighted"
    assert set(config.feature_names) <= set(FEATURE_NAMES)
    assert np.isclose(config.normalised_weights.sum(), 1.0)
    assert (config.weights > 0).all()
    assert config.weights.sum() == 100.0  # points out of 100, as the file says
    assert config.cadence == Cadence(low=182, medium=91, high=30)
    assert config.tiers.edges == (0.35, 0.55)
    assert config.visits_per_month == 100
    assert DEFAULT_CONFIG_PATH.name == "weighted_v1.toml"


def test_cadence_and_capacity_default_when_absent(tmp_path):
    text = BASE.replace("[cadence_days]\nhigh = 30\nmedium = 91\nlow = 182\n", "")
    text = text.replace("[capacity]\nvisits_per_month = 40\n", "")
    config = load_config(write(tmp_path, text))
    assert config.cadence == Cadence(low=182, medium=91, high=30)
    assert config.visits_per_month == 100


def test_round_trip_default(tmp_path):
    original = default_config()
    path = save_config(original, tmp_path / "copy.toml")
    again = load_config(path)
    assert again == original
    assert again.source == str(path)


def test_round_trip_every_transform(tmp_path):
    config = ScoringConfig(
        version="hand_v2",
        description="all transform kinds, 한국어 too",
        features=(
            FeatureSpec("income_to_median_ratio", 3.5, LinearTransform(0.32, 1.0, invert=True)),
            FeatureSpec("has_disability", 0.0, StepTransform(1.0)),
            FeatureSpec("nearest_community_centre_m", 1.25, StepTransform(1500.0, invert=True)),
            FeatureSpec("signals_rent_arrears_12m", 2.0, LogTransform(3.0)),
            FeatureSpec("assets_million_krw", 0.1, LogTransform(100.0, invert=True)),
        ),
        tiers=TierCutoffs.from_edges(0.3, 0.7),
        cadence=Cadence(low=120, medium=60, high=14),
        visits_per_month=7,
    )
    assert load_config(save_config(config, tmp_path / "hand.toml")) == config


def test_config_is_frozen():
    config = default_config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.version = "other"


# Each case: (replace this, with that) in BASE -> the key the error must name.
INVALID = {
    "unknown feature": ("[features.lives_alone]", "[features.lives_alon]", "features.lives_alon"),
    "negative weight": ("weight = 2.0", "weight = -2.0", "features.age_years.weight"),
    "weight not a number": ("weight = 2.0", 'weight = "heavy"', "features.age_years.weight"),
    "missing weight": ("weight = 2.0\n", "", "features.age_years.weight"),
    "unknown transform kind": (
        'transform = "linear"',
        'transform = "sigmoid"',
        "features.age_years.transform",
    ),
    "low above high": ("low = 65.0", "low = 95.0", "features.age_years.low"),
    "low equal to high": ("low = 65.0", "low = 85.0", "features.age_years.low"),
    "linear without high": ("high = 85.0\n", "", "features.age_years.high"),
    "log cap not positive": ("cap = 4.0", "cap = 0.0", "features.crisis_signals_12m.cap"),
    "step without threshold": ("threshold = 1.0\n", "", "features.lives_alone.threshold"),
    "invert not a boolean": (
        "high = 85.0\n",
        'high = 85.0\ninvert = "yes"\n',
        "features.age_years.invert",
    ),
    "unknown key in a feature": (
        "cap = 4.0",
        "cap = 4.0\ncapp = 5.0",
        "features.crisis_signals_12m.capp",
    ),
    "tiers overlap": ("medium = [0.35, 0.6]", "medium = [0.3, 0.6]", "tiers.medium"),
    "tiers leave a gap": ("medium = [0.35, 0.6]", "medium = [0.4, 0.6]", "tiers.medium"),
    "tiers do not start at 0": ("low = [0.0, 0.35]", "low = [0.1, 0.35]", "tiers.low"),
    "tiers do not end at 1": ("high = [0.6, 1.0]", "high = [0.6, 0.9]", "tiers.high"),
    "tier range reversed": (
        "medium = [0.35, 0.6]\nhigh = [0.6, 1.0]",
        "medium = [0.35, 0.35]\nhigh = [0.35, 1.0]",
        "tiers.medium",
    ),
    "tier missing": ("medium = [0.35, 0.6]\n", "", "tiers.medium"),
    "tier not a pair": ("high = [0.6, 1.0]", "high = [0.6, 0.8, 1.0]", "tiers.high"),
    "unknown tier": ("high = [0.6, 1.0]", "high = [0.6, 1.0]\nurgent = [0.9, 1.0]", "tiers.urgent"),
    "missing version": ('version = "test_v1"\n', "", "version"),
    "empty version": ('version = "test_v1"', 'version = " "', "version"),
    "version not a string": ('version = "test_v1"', "version = 1", "version"),
    "unknown method": ('method = "weighted"', 'method = "learned"', "method"),
    "unknown top-level key": ('method = "weighted"', 'method = "weighted"\nweights = 1', "weights"),
    "cadence not positive": ("high = 30", "high = 0", "cadence_days.high"),
    "cadence not whole days": ("high = 30", "high = 30.5", "cadence_days.high"),
    "capacity zero": ("visits_per_month = 40", "visits_per_month = 0", "capacity.visits_per_month"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_configuration_names_file_and_key(tmp_path, case):
    old, new, key = INVALID[case]
    assert old in BASE
    path = write(tmp_path, BASE.replace(old, new, 1), name="bad_config.toml")
    with pytest.raises(ScoringConfigError) as caught:
        load_config(path)
    assert caught.value.key == key
    assert caught.value.source == str(path)
    assert str(caught.value).startswith(f"{path}: {key}: ")


def test_all_zero_weights(tmp_path):
    text = BASE.replace("weight = 2.0", "weight = 0.0").replace("weight = 1.0", "weight = 0")
    with pytest.raises(ScoringConfigError, match=r"bad\.toml: features: all weights are zero"):
        load_config(write(tmp_path, text, name="bad.toml"))


def test_zero_weight_alone_is_allowed(tmp_path):
    config = load_config(write(tmp_path, BASE.replace("weight = 2.0", "weight = 0.0")))
    assert config.normalised_weights.tolist() == [0.0, 0.5, 0.5]


def test_no_features(tmp_path):
    text = BASE.split("[features.age_years]")[0]
    with pytest.raises(ScoringConfigError, match="features: must be a table"):
        load_config(write(tmp_path, text))


def test_not_toml(tmp_path):
    path = write(tmp_path, "version = \n", name="broken.toml")
    with pytest.raises(ScoringConfigError, match=r"broken\.toml: not valid TOML"):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ScoringConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml")


def test_errors_are_value_errors():
    assert issubclass(ScoringConfigError, ValueError)


def test_direct_construction_is_validated():
    spec = FeatureSpec("age_years", 1.0, LinearTransform(65.0, 85.0))
    with pytest.raises(ScoringConfigError, match="version"):
        ScoringConfig(version="", features=(spec,))
    with pytest.raises(ScoringConfigError, match="features.age: unknown feature"):
        ScoringConfig(version="v", features=(FeatureSpec("age", 1.0, spec.transform),))
    with pytest.raises(ScoringConfigError, match="features.age_years: listed twice"):
        ScoringConfig(version="v", features=(spec, spec))
    with pytest.raises(ScoringConfigError, match=r"low \(2.0\) must be below high \(1.0\)"):
        LinearTransform(2.0, 1.0)
    with pytest.raises(ScoringConfigError, match="tiers.medium.*gap"):
        TierCutoffs(low=(0.0, 0.3), medium=(0.4, 0.6), high=(0.6, 1.0))


def test_config_from_dict_default_source():
    with pytest.raises(ScoringConfigError, match="^<dict>: version: missing"):
        config_from_dict({"features": {}})


@pytest.mark.parametrize(
    ("transform", "values", "expected"),
    [
        (LinearTransform(65.0, 85.0), [50, 65, 75, 85, 99], [0, 0, 0.5, 1, 1]),
        (LinearTransform(0.32, 1.0, invert=True), [0.0, 0.32, 0.66, 1.0, 2.0], [1, 1, 0.5, 0, 0]),
        (StepTransform(1.0), [0, 0.99, 1, 5], [0, 0, 1, 1]),
        (StepTransform(1500.0, invert=True), [100, 1500, 2000], [1, 0, 0]),
        # log(1 + x) / log(1 + 3): 1 -> log 2 / log 4 = 0.5; 3 and more -> 1.
        (LogTransform(3.0), [0, 1, 3, 10, -1], [0, 0.5, 1, 1, 0]),
    ],
)
def test_transforms_by_hand(transform, values, expected):
    np.testing.assert_allclose(transform.apply(values), expected, atol=1e-15)


def test_first_visit_days_default_validated_and_kept():
    config = default_config()
    assert config.first_visit.by_code() == {0: 182, 1: 60, 2: 14}
    document = config_to_dict(config)
    assert document["first_visit_days"] == {"high": 14, "medium": 60, "low": 182}
    assert config_from_dict(document) == config
    # absent (e.g. a run stored before issue 12): the defaults
    older = {k: v for k, v in document.items() if k != "first_visit_days"}
    assert config_from_dict(older).first_visit == config.first_visit
    for bad, key in (({"high": 0}, "first_visit_days.high"), ({"urgent": 3}, "first_visit_days")):
        with pytest.raises(ScoringConfigError) as error:
            config_from_dict(document | {"first_visit_days": bad}, source="x.toml")
        assert f"x.toml: {key}" in str(error.value)
