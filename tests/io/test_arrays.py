"""Windows of .npy arrays read without a memory map agree with slicing the whole array."""

import numpy as np
import pytest

from pipeline import DataError
from pipeline.io.arrays import read_window, save_array


@pytest.mark.parametrize("shape, leading", [((20, 30), False), ((20, 30, 3), False), ((4, 20, 30, 3), True)])
def test_a_window_is_the_slice_of_the_whole_array(tmp_path, shape, leading):
    array = np.random.default_rng(0).normal(size=shape).astype(np.float16)
    path = tmp_path / "a.npy"
    save_array(path, array)
    for rows, columns in [(slice(3, 17), slice(5, 29)), (slice(None), slice(None)), (slice(18, 40), slice(0, 1))]:
        expected = array[:, rows, columns] if leading else array[rows, columns]
        window = read_window(path, rows, columns, leading)
        assert window.dtype == np.float32 and window.shape == expected.shape
        np.testing.assert_array_equal(window, expected.astype(np.float32))


def test_bad_files_are_named(tmp_path):
    with pytest.raises(DataError, match="missing.npy: file not found"):
        read_window(tmp_path / "missing.npy", slice(None), slice(None))
    truncated = tmp_path / "short.npy"
    save_array(truncated, np.zeros((8, 8), dtype=np.float16))
    truncated.write_bytes(truncated.read_bytes()[:-20])
    with pytest.raises(DataError, match="short.npy"):
        read_window(truncated, slice(None), slice(None))
