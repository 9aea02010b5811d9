import pytest

from pipeline.io.atomic import atomic_dirs, atomic_file


def test_failed_write_keeps_previous_outputs(tmp_path):
    final = tmp_path / "out"
    with atomic_dirs({"out": final}) as temp:
        (temp["out"] / "a.txt").write_text("first")
    with pytest.raises(RuntimeError):
        with atomic_dirs({"out": final}) as temp:
            (temp["out"] / "a.txt").write_text("half")
            raise RuntimeError("interrupted")
    assert (final / "a.txt").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary left behind


def test_success_replaces_whole_directory(tmp_path):
    final = tmp_path / "out"
    with atomic_dirs({"out": final}) as temp:
        (temp["out"] / "old.txt").write_text("x")
    with atomic_dirs({"out": final}) as temp:
        (temp["out"] / "new.txt").write_text("y")
    assert sorted(p.name for p in final.iterdir()) == ["new.txt"]


def test_one_failing_output_swaps_none(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    with atomic_dirs({"a": a, "b": b}) as temp:
        (temp["a"] / "v").write_text("1")
        (temp["b"] / "v").write_text("1")
    with pytest.raises(ValueError):
        with atomic_dirs({"a": a, "b": b}) as temp:
            (temp["a"] / "v").write_text("2")
            raise ValueError
    assert (a / "v").read_text() == "1" and (b / "v").read_text() == "1"


def test_stale_temporaries_of_a_killed_run_are_removed(tmp_path):
    stale = tmp_path / ".out.abc123.tmp"
    stale.mkdir()
    with atomic_dirs({"out": tmp_path / "out"}):
        pass
    assert not stale.exists()


def test_atomic_file(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("keep")
    with pytest.raises(KeyboardInterrupt):
        with atomic_file(path, "w") as handle:
            handle.write("partial")
            raise KeyboardInterrupt
    assert path.read_text() == "keep"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]
