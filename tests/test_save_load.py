"""Save and load: JSON only, atomic writes, every bad file a ValueError that changes nothing."""

from __future__ import annotations

import json
import os
import pickle
import random

import pytest
from _saving_child import holds_a_saved_model, kill_a_saving_child

from autograd_tiny.nn import MLP


def model(seed: int = 0) -> MLP:
    return MLP(2, [3, 1], activation="tanh", seed=seed)


def saved(tmp_path, seed: int = 0):
    path = tmp_path / "model.json"
    model(seed).save(path)
    return path


def test_round_trip_is_exact_and_plain_json(tmp_path):
    source = model(0)
    source.layers[0].neurons[0].w[0].data = 0.1 + 0.2  # a float that needs all 17 digits
    path = tmp_path / "model.json"
    source.save(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == "autograd_tiny.state_dict"
    assert document["config"] == {
        "nin": 2,
        "nouts": [3, 1],
        "activation": "tanh",
        "output_activation": "linear",
    }
    target = model(1).load(path)
    assert target.state_dict() == source.state_dict()
    assert [os.path.basename(p) for p in os.listdir(tmp_path)] == ["model.json"]


def test_init_is_not_saved_so_a_model_of_the_same_shape_loads_the_file(tmp_path):
    path = tmp_path / "model.json"
    source = MLP(2, [3, 1], activation="tanh", init="uniform", seed=0)
    source.save(path)
    assert "init" not in json.loads(path.read_text(encoding="utf-8"))["config"]
    assert model(1).load(path).state_dict() == source.state_dict()
    assert (
        MLP(2, [3, 1], activation="tanh", init="he").load(path).state_dict() == source.state_dict()
    )


def test_a_file_written_before_init_existed_loads_into_a_model_with_any_init(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(
        '{"format": "autograd_tiny.state_dict", "version": 1, "model": "MLP", '
        '"config": {"nin": 2, "nouts": [1], "activation": "tanh", '
        '"output_activation": "linear"}, '
        '"state": {"layers": [{"weight": [[0.5, -0.25]], "bias": [0.125]}]}}',
        encoding="utf-8",
    )
    for init in ("auto", "glorot", "uniform"):
        target = MLP(2, [1], activation="tanh", init=init, seed=3).load(path)
        assert target.state_dict() == {"layers": [{"weight": [[0.5, -0.25]], "bias": [0.125]}]}


def test_save_refuses_non_finite_parameters_and_keeps_the_old_file(tmp_path):
    path = saved(tmp_path)
    before = path.read_bytes()
    broken = model(1)
    broken.layers[0].neurons[0].b.data = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        broken.save(path)
    assert path.read_bytes() == before


def test_save_sweeps_stale_temp_files(tmp_path):
    stale = tmp_path / f".model.json.{2**22 + 1}.deadbeef.tmp"  # above any pid_max
    stale.write_text('{"format": "autograd_tiny.st', encoding="utf-8")
    other = tmp_path / ".other.json.1.0.tmp"
    other.write_text("", encoding="utf-8")
    saved(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.json.1.0.tmp", "model.json"]


def test_save_keeps_the_temp_file_of_a_writer_that_is_still_running(tmp_path):
    busy = tmp_path / f".model.json.{os.getppid()}.cafe.tmp"  # our parent is alive
    busy.write_text("", encoding="utf-8")
    saved(tmp_path)
    assert busy.exists()


def _text(tmp_path) -> str:
    return saved(tmp_path).read_text(encoding="utf-8")


def _edited(tmp_path, edit) -> bytes:
    document = json.loads(_text(tmp_path))
    edit(document)
    return json.dumps(document).encode()


def _with_token(tmp_path, token: str) -> bytes:
    """A valid file whose last bias is written as ``token``."""
    text = _edited(tmp_path, lambda d: d["state"]["layers"][1]["bias"].__setitem__(0, 12345.5))
    return text.replace(b"12345.5", token.encode())


BAD_FILES = {
    "empty": lambda tmp: b"",
    "whitespace": lambda tmp: b"  \n",
    "binary": lambda tmp: bytes(range(256)),
    "pickle": lambda tmp: pickle.dumps(model().state_dict()),
    "deeply nested": lambda tmp: b"[" * 100_000 + b"]" * 100_000,
    "nan token": lambda tmp: _with_token(tmp, "NaN"),
    "infinity token": lambda tmp: _with_token(tmp, "-Infinity"),
    "overflowing number": lambda tmp: _with_token(tmp, "1e400"),
    "not an object": lambda tmp: b"[1, 2, 3]",
    "other json": lambda tmp: b'{"weights": [1, 2]}',
    "wrong version": lambda tmp: _edited(tmp, lambda d: d.update(version=99)),
    "wrong shape": lambda tmp: _edited(
        tmp, lambda d: d["state"]["layers"][0]["weight"][0].append(1.0)
    ),
    "missing layer": lambda tmp: _edited(tmp, lambda d: d["state"]["layers"].pop()),
    "string for number": lambda tmp: _edited(
        tmp, lambda d: d["state"]["layers"][1]["bias"].__setitem__(0, "0.5")
    ),
    "bool for number": lambda tmp: _edited(
        tmp, lambda d: d["state"]["layers"][1]["bias"].__setitem__(0, True)
    ),
    "other architecture": lambda tmp: _edited(tmp, lambda d: d["config"].update(activation="relu")),
    "truncated": lambda tmp: _text(tmp)[:-20].encode(),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_every_bad_file_raises_one_value_error_and_changes_nothing(tmp_path, name):
    content = BAD_FILES[name](tmp_path)
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    target = model(5)
    before = target.state_dict()
    with pytest.raises(ValueError, match=r"cannot load .*bad\.json") as error:
        target.load(path)
    if "token" in name or "overflow" in name:
        assert "NaN" in str(error.value) or "inf" in str(error.value).lower()
    assert target.state_dict() == before
    assert len(str(error.value)) < 600


@pytest.mark.slow
def test_every_truncation_prefix_is_rejected(tmp_path):
    text = _text(tmp_path)
    path = tmp_path / "prefix.json"
    target = model(5)
    before = target.state_dict()
    for n in range(len(text)):
        if text[:n].strip() == text.strip():
            continue  # only the trailing newline is gone: still the whole file
        path.write_text(text[:n], encoding="utf-8")
        with pytest.raises(ValueError, match=r"prefix\.json"):
            target.load(path)
    assert target.state_dict() == before


@pytest.mark.slow
def test_a_save_killed_at_any_moment_never_leaves_a_corrupt_file(tmp_path):
    path = tmp_path / "model.json"
    MLP(2, [32, 32, 1], seed=1).save(path)  # a whole file to begin with
    rng = random.Random(0)

    for _ in range(30):  # at random moments
        kill_a_saving_child(path, "loop", rng.uniform(0.0, 0.03))
        assert holds_a_saved_model(path)
    kill_a_saving_child(path, "pause", 0.0)  # and once surely inside a save
    assert any(p.suffix == ".tmp" for p in tmp_path.iterdir()), "the kill missed the save"
    assert holds_a_saved_model(path)
    MLP(2, [32, 32, 1], seed=0).save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_a_huge_integer_in_the_file_raises_a_value_error_naming_the_file(tmp_path):
    path = tmp_path / "huge.json"
    path.write_bytes(_with_token(tmp_path, str(10**400)))
    target = model(5)
    before = target.state_dict()
    with pytest.raises(
        ValueError,
        match=r"cannot load .*huge\.json.*state\.layers\[1\]\.bias"
        r"\[0\]: .*integer too large for a float",
    ):
        target.load(path)
    assert target.state_dict() == before
