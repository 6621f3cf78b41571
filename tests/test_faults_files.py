"""Files under faults: saves never replace what is not a regular file, follow symlinks, keep
permissions and owners, survive kill -9; loads refuse FIFOs, devices and mistyped JSON."""

from __future__ import annotations

import json
import os
import random
import socket
import stat
import threading

import pytest
from _saving_child import holds_a_saved_model, kill_a_saving_child

from autograd_tiny import Value
from autograd_tiny._atomic import NotARegularFileError, write_atomic
from autograd_tiny.nn import MLP
from autograd_tiny.viz import render_svg

needs_posix = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX file types")


def model(seed: int = 0) -> MLP:
    return MLP(2, [3, 1], activation="tanh", seed=seed)


def _fifo(tmp_path):
    path = tmp_path / "pipe.json"
    os.mkfifo(path)
    return path


def _socket(tmp_path):
    path = tmp_path / "s.json"
    if len(str(path)) > 100:
        pytest.skip("temporary folder path too long for an AF_UNIX socket")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()  # the socket file stays
    return path


def _device(tmp_path):
    path = tmp_path / "null.json"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # like /dev/null, never /dev
    except PermissionError:
        pytest.skip("creating a device node needs root")
    return path


def _directory(tmp_path):
    path = tmp_path / "folder.json"
    path.mkdir()
    return path


SPECIAL = {
    "fifo": (_fifo, "FIFO"),
    "socket": (_socket, "socket"),
    "device": (_device, "character device"),
    "directory": (_directory, "directory"),
}
WRITERS = {
    "save": lambda path: model().save(path),
    "render_svg": lambda path: render_svg(Value(1.0, label="x") * 2, path),
}


@needs_posix
@pytest.mark.parametrize("writer", list(WRITERS))
@pytest.mark.parametrize("kind", list(SPECIAL))
def test_a_save_over_a_fifo_device_socket_or_directory_refuses_and_leaves_it(
    tmp_path, kind, writer
):
    make, described = SPECIAL[kind]
    path = make(tmp_path)
    before = os.lstat(path)
    with pytest.raises(NotARegularFileError, match=f"{path.name}.*{described}.*left untouched"):
        WRITERS[writer](path)
    after = os.lstat(path)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode)
    assert after.st_ino == before.st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp file left


def test_the_refusal_is_an_os_error_and_a_value_error(tmp_path):
    with pytest.raises(OSError):
        model().save(_directory(tmp_path))
    with pytest.raises(ValueError):
        model().save(tmp_path / "folder.json")


@needs_posix
@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_save_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path, writer):
    run3 = tmp_path / "run3.json"
    run3.write_text("old", encoding="utf-8")
    latest = tmp_path / "latest.json"
    latest.symlink_to("run3.json")  # relative, as `ln -s` makes it
    WRITERS[writer](latest)
    assert latest.is_symlink() and os.readlink(latest) == "run3.json"
    assert run3.read_text(encoding="utf-8") != "old"
    if writer == "save":
        assert model(5).load(run3).state_dict() == model().state_dict()


@needs_posix
def test_a_chain_of_links_and_a_dangling_link_are_followed(tmp_path):
    (tmp_path / "sub").mkdir()
    final = tmp_path / "sub" / "final.json"
    middle = tmp_path / "middle.json"
    middle.symlink_to(final)  # dangling: final does not exist yet
    first = tmp_path / "first.json"
    first.symlink_to(middle)
    model().save(first)
    assert first.is_symlink() and middle.is_symlink()
    assert json.loads(final.read_text(encoding="utf-8"))["model"] == "MLP"
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["final.json"]


@needs_posix
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444, 0o755])
def test_a_save_keeps_the_permission_bits_of_the_file_it_replaces(tmp_path, mode):
    path = tmp_path / "model.json"
    model(1).save(path)
    os.chmod(path, mode)
    model().save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert model(5).load(path).state_dict() == model().state_dict()


@needs_posix
def test_a_new_file_gets_the_umask_permissions(tmp_path):
    old = os.umask(0o077)
    try:
        model().save(tmp_path / "model.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "model.json").st_mode) == 0o600


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_root_saving_over_another_users_file_keeps_its_owner_and_mode(tmp_path):
    path = tmp_path / "model.json"
    model(1).save(path)
    os.chown(path, 65534, 65534)
    os.chmod(path, 0o640)
    model().save(path)
    after = os.stat(path)
    assert (after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode)) == (65534, 65534, 0o640)


@needs_posix
def test_loading_a_fifo_refuses_at_once_instead_of_blocking(tmp_path):
    path = _fifo(tmp_path)
    target = model(5)
    before = target.state_dict()
    outcome: list[BaseException] = []

    def load() -> None:
        try:
            target.load(path)
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(timeout=10)
    if thread.is_alive():  # release the blocked open so the thread can end, then fail
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("load() blocked on a FIFO")
    assert len(outcome) == 1 and isinstance(outcome[0], ValueError)
    assert "pipe.json" in str(outcome[0]) and "FIFO" in str(outcome[0])
    assert target.state_dict() == before


@needs_posix
@pytest.mark.parametrize("kind", ["device", "directory", "socket"])
def test_loading_anything_but_a_regular_file_is_a_value_error_naming_it(tmp_path, kind):
    make, described = SPECIAL[kind]
    path = make(tmp_path)
    with pytest.raises(ValueError, match=f"{path.name}.*{described}"):
        model().load(path)


def _document(**changes):
    document = json.loads(
        json.dumps(
            {
                "format": "autograd_tiny.state_dict",
                "version": 1,
                "model": "MLP",
                "config": {
                    "nin": 2,
                    "nouts": [2, 1],
                    "activation": "tanh",
                    "output_activation": "linear",
                },
                "state": MLP(2, [2, 1], activation="tanh", seed=0).state_dict(),
            }
        )
    )
    for key, value in changes.items():
        if key in document:
            document[key] = value
        else:
            document["config"][key] = value
    return document


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"version": True}, r"version: .*bool True"),
        ({"version": 1.0}, r"version: .*float 1\.0"),
        ({"nouts": [2.0, True]}, r"config\.nouts\[0\]: expected int 2, got float 2\.0"),
        ({"nouts": [2, True]}, r"config\.nouts\[1\]: expected int 1, got bool True"),
        ({"nin": True}, r"config\.nin: expected int 2, got bool True"),
        ({"nin": "2"}, r"config\.nin: expected int 2, got str '2'"),
        ({"activation": None}, r"config\.activation: expected str 'tanh', got NoneType"),
        ({"model": ["MLP"]}, r"model: the file holds \['MLP'\]"),
    ],
)
def test_json_values_of_the_wrong_type_are_refused_naming_path_and_field(tmp_path, changes, field):
    path = tmp_path / "typed.json"
    path.write_text(json.dumps(_document(**changes)), encoding="utf-8")
    target = MLP(2, [2, 1], activation="tanh", seed=3)
    before = target.state_dict()
    with pytest.raises(ValueError, match=r"cannot load .*typed\.json.*" + field):
        target.load(path)
    assert target.state_dict() == before


def test_the_same_file_with_the_right_types_loads(tmp_path):
    path = tmp_path / "typed.json"
    path.write_text(json.dumps(_document()), encoding="utf-8")
    loaded = MLP(2, [2, 1], activation="tanh", seed=3).load(path)
    assert loaded.state_dict() == MLP(2, [2, 1], activation="tanh", seed=0).state_dict()


@pytest.mark.slow
@needs_posix
def test_saves_through_a_symlink_to_a_600_file_killed_at_random_moments(tmp_path):
    (tmp_path / "runs").mkdir()
    real = tmp_path / "runs" / "run3.json"
    MLP(2, [32, 32, 1], seed=0).save(real)
    os.chmod(real, 0o600)
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    rng = random.Random(1)

    for _ in range(25):  # at random moments
        kill_a_saving_child(link, "loop", rng.uniform(0.0, 0.03))
        assert link.is_symlink() and stat.S_IMODE(os.stat(real).st_mode) == 0o600
        assert holds_a_saved_model(link)
    kill_a_saving_child(link, "pause", 0.0)  # and once surely inside a save, before its rename
    assert any(p.suffix == ".tmp" for p in real.parent.iterdir()), "the kill missed the save"
    assert link.is_symlink() and stat.S_IMODE(os.stat(real).st_mode) == 0o600
    assert holds_a_saved_model(link)
    MLP(2, [32, 32, 1], seed=0).save(link)
    assert [p.name for p in real.parent.iterdir()] == ["run3.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.json", "runs"]


def test_write_atomic_returns_the_path_it_was_given(tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "real.txt")
    assert write_atomic(link, b"x") == link
    assert (tmp_path / "real.txt").read_bytes() == b"x"


def test_history_plot_writes_atomically_and_refuses_a_fifo(tmp_path):
    pytest.importorskip("matplotlib")
    from autograd_tiny.train import History

    history = History(loss=[0.7, 0.5], accuracy=[0.5, 1.0])
    link = tmp_path / "curves.png"
    link.symlink_to(tmp_path / "real.png")
    history.plot(link)
    assert link.is_symlink() and (tmp_path / "real.png").read_bytes()[:4] == b"\x89PNG"
    if hasattr(os, "mkfifo"):
        with pytest.raises(NotARegularFileError, match="FIFO"):
            history.plot(_fifo(tmp_path))


@needs_posix
def test_cli_graph_refuses_an_out_that_is_a_fifo_before_any_work(tmp_path, capsys):
    from autograd_tiny import cli

    fifo = tmp_path / "g.svg"
    os.mkfifo(fifo)
    assert cli.main(["graph", "x*x", "--var", "x=2", "--out", str(fifo)]) == 2
    assert "is not a regular file" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
