"""widgets.train_config: each TrainConfig field declares its help and bounds once, and both
`validate` and the CLI parser (widgets.train_cli) are generated from that declaration."""
from __future__ import annotations

import dataclasses
import math

import pytest

from widgets import train as T
from widgets import train_cli as C
from widgets import train_config as TC

FIELDS = dataclasses.fields(TC.TrainConfig)
BOUNDED = [f for f in FIELDS if TC.kind_of(f)[0] in ("int", "float")
           and (TC.spec_of(f).low is not None or TC.spec_of(f).high is not None)]


def flag(f) -> str:
    return "--" + f.name.replace("_", "-")


def outside(f) -> list[float]:
    """Values just outside the field's bounds."""
    s, integer = TC.spec_of(f), TC.kind_of(f)[0] == "int"
    (low, high), step = s.bounds(), (1 if integer else 1e-3)
    vals = []
    if low is not None:
        vals.append(low if s.low_open else low - step)
    if high is not None:
        vals.append(high if s.high_open else high + step)
    return [int(v) if integer else float(v) for v in vals]


def inside(f) -> list[float]:
    s, integer = TC.spec_of(f), TC.kind_of(f)[0] == "int"
    (low, high), step = s.bounds(), (1 if integer else 1e-3)
    vals = []
    if low is not None:
        vals.append(low + step if s.low_open else low)
    if high is not None:
        vals.append(high - step if s.high_open else high)
    return [int(v) if integer else float(v) for v in vals]


def cli_error(argv, capsys) -> str:
    with pytest.raises(SystemExit) as e:
        C.make_parser().parse_args(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    return err


def test_every_field_declares_help_and_is_an_option(capsys):
    assert len(FIELDS) >= 30 and len(BOUNDED) >= 15
    with pytest.raises(SystemExit):
        C.make_parser().parse_args(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    for f in FIELDS:
        spec = TC.spec_of(f)
        assert len(spec.help) > 5, f.name
        assert flag(f) in out, f.name
        assert " ".join(spec.help.split())[:30] in out, f.name  # the same words, from the metadata


def test_the_defaults_and_lesson_defaults_are_valid():
    for cfg in (TC.TrainConfig(), TC.lesson_default("digits"), TC.lesson_default("cifar10")):
        TC.validate(cfg)
        for f in FIELDS:
            assert TC.field_error(f, getattr(cfg, f.name)) is None, f.name


@pytest.mark.parametrize("f", BOUNDED, ids=lambda f: f.name)
def test_bounds_refused_with_one_message_by_validate_and_the_parser(f, capsys):
    for v in inside(f):
        assert TC.field_error(f, v) is None, (f.name, v)
        assert getattr(C.make_parser().parse_args([flag(f), str(v)]), f.name) == v
    for v in outside(f):
        msg = TC.field_error(f, v)
        assert msg and msg.startswith(TC.label_of(f)) and msg.endswith(f"got {v}"), (f.name, v, msg)
        with pytest.raises(TC.ConfigError) as e:
            TC.validate(dataclasses.replace(TC.TrainConfig(), **{f.name: v}))
        assert str(e.value) == msg
        assert cli_error([flag(f), str(v)], capsys).endswith(f"argument {flag(f)}: {msg}\n")


@pytest.mark.parametrize("f", BOUNDED, ids=lambda f: f.name)
def test_numbers_are_finite_and_typed(f):
    assert "finite" in TC.field_error(f, math.inf) and "finite" in TC.field_error(f, math.nan)
    assert "a number" in TC.field_error(f, "3")
    if TC.kind_of(f)[0] == "int":
        assert "whole number" in TC.field_error(f, 2.5)


def test_choices_come_from_the_metadata(capsys):
    parser = C.make_parser()
    actions = {a.dest: a for a in parser._actions}
    for f in FIELDS:
        if TC.spec_of(f).choices is not None:
            assert tuple(actions[f.name].choices) == TC.spec_of(f).choices
            bad = "nope"
            assert TC.field_error(f, bad).startswith(f"unknown {TC.label_of(f)} 'nope': choose one of")
            assert "invalid choice: 'nope'" in cli_error([flag(f), bad], capsys)


def test_rule_wording():
    S = TC.Spec
    assert S("h", low=0, low_open=True).rule(False) == "must be a positive number"
    assert S("h", low=1).rule(True) == "must be at least 1"
    assert S("h", low=8, high=512).rule(True) == "must be from 8 to 512"
    assert S("h", low=0, high=4, low_open=True).rule(False) == "must be in (0, 4]"
    assert S("h", low=0, high=1, high_open=True).rule(False) == "must be in [0, 1)"
    assert S("h", high=2).rule(False) == "must be at most 2"
    assert S("h", low=0, high=1, low_open=True).contains(1) and not S("h", low=0, low_open=True).contains(0)
    assert S("h", low=0, high=2**63 - 2).rule(True) == "must be from 0 to 9,223,372,036,854,775,806"
    cores = S("h", low=1, high=lambda: 3)  # a bound read when checked (threads: the machine's cores)
    assert cores.rule(True) == "must be from 1 to 3" and cores.contains(3) and not cores.contains(4)


def test_unset_options_take_the_data_sets_lesson_default():
    p = C.make_parser()
    assert C.config_from_args(p.parse_args([])) == TC.lesson_default("digits")
    cifar = C.config_from_args(p.parse_args(["--dataset", "cifar10", "--no-aux", "--lr", "0.05"]))
    assert cifar == dataclasses.replace(TC.lesson_default("cifar10"), aux=False, lr=0.05)


def test_the_engine_reexports_the_config():
    assert T.TrainConfig is TC.TrainConfig and T.validate is TC.validate and T.ConfigError is TC.ConfigError
