"""Parquet manifests: one row per sample, paths relative to the dataset directory.

A manifest is the contract between stages. ``read_manifest`` checks that it has
the columns its reader needs and that every file it names exists with the shape
the row says, so a stage fails on bad data before any work, naming the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from pipeline import DataError
from pipeline.io.arrays import load_array
from pipeline.io.atomic import atomic_file

MANIFEST = "manifest.parquet"

# Given a manifest row, the expected array shape of a file column.
ShapeOf = Callable[[pd.Series], tuple[int | None, ...]]


def write_table(path: str | Path, table: pd.DataFrame) -> None:
    """Write a table as Parquet, atomically, without the pandas index."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.Table.from_pandas(table.reset_index(drop=True), preserve_index=False)
    with atomic_file(path) as handle:
        pq.write_table(arrow, handle)


def read_table(path: str | Path, columns: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a Parquet table; a missing file, a corrupt one or a missing column names the file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        table = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several unrelated types for corrupt files
        raise DataError(f"{path}: not a readable Parquet table ({err})") from err
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{path}: missing columns {missing}")
    return table


def read_manifest(
    directory: str | Path, columns: tuple[str, ...], files: Mapping[str, ShapeOf]
) -> pd.DataFrame:
    """Read ``directory/manifest.parquet`` and check every file it names.

    ``files`` maps each file column to a function giving the array shape that
    row promises; each file's header is read (memory-mapped, no data) and
    compared.
    """
    directory = Path(directory)
    manifest = read_table(directory / MANIFEST, tuple(columns) + tuple(files))
    if manifest.empty:
        raise DataError(f"{directory / MANIFEST}: manifest has no rows")
    for _, row in manifest.iterrows():
        for column, shape_of in files.items():
            relative = row[column]
            if Path(relative).is_absolute() or ".." in Path(relative).parts:
                raise DataError(f"{directory / MANIFEST}: path {relative!r} must stay inside {directory}")
            load_array(directory / relative, shape_of(row))
    return manifest
