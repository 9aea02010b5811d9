"""Seeded randomness: one independent generator per (seed, purpose, index)."""

from __future__ import annotations

import zlib

import numpy as np


def rng_for(seed: int, purpose: str, index: int = 0) -> np.random.Generator:
    """A generator that depends only on its arguments: adding subjects never reshuffles others."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(purpose.encode()), index]))


def held_out(count: int, held: int, seed: int, purpose: str) -> np.ndarray:
    """Boolean mask (count,) of the ``held`` items in the test split, fixed by seed."""
    mask = np.zeros(count, dtype=bool)
    mask[rng_for(seed, purpose).permutation(count)[:held]] = True
    return mask
