"""The synth's fast paths give the very numbers of their plain definitions, bit for bit: the data's
bytes must not change when the code gets faster (``benchmarks/synth.py --baseline`` checks whole
renders; these check each shortcut on its own)."""

import numpy as np

from pipeline.camera.eg3d import RADIUS, pixel_size
from pipeline.seeds import rng_for
from pipeline.synth.meshcast import vertex_normals
from pipeline.synth.raycast import _full_density_depth
from pipeline.synth.subject import HAIR_FUZZ_RAMP, SCALE, sample_subject
from pipeline.synth.texture import _PRIMES, fractal_noise, smoothstep, value_noise


def plain_value_noise(points: np.ndarray, cell: float, seed: int) -> np.ndarray:
    """Value noise as defined: each of the 8 lattice corners hashed in full, weighted by the
    product of its smoothstep weights, summed in corner order."""
    scaled = points / cell
    base = np.floor(scaled)
    t = scaled - base
    t = t * t * (3.0 - 2.0 * t)
    out = np.zeros(len(points))
    for corner in range(8):
        offset = np.array([(corner >> k) & 1 for k in range(3)], dtype=np.float64)
        weight = np.prod(np.where(offset == 1, t, 1.0 - t), axis=1)
        h = ((base + offset).astype(np.int64).astype(np.uint64) * _PRIMES).sum(axis=-1, dtype=np.uint64)
        h ^= np.uint64(seed * 2654435761 % 2**32)
        h = (h ^ (h >> np.uint64(13))) * np.uint64(0x5BD1E995) & np.uint64(0xFFFFFFFF)
        h ^= h >> np.uint64(15)
        out += weight * ((h & np.uint64(0xFFFFFF)).astype(np.float64) / float(1 << 24))
    return 2.0 * out - 1.0


def test_value_noise_is_its_definition_bit_for_bit():
    rng = np.random.default_rng(0)
    for _ in range(6):
        points = rng.normal(size=(5000, 3)) * rng.uniform(0.01, 3.0)  # negative cells too
        cell, seed = float(rng.uniform(0.0005, 0.5)), int(rng.integers(10**6))
        assert np.array_equal(value_noise(points, cell, seed), plain_value_noise(points, cell, seed))
    noise = value_noise(rng.normal(size=(5000, 3)), 0.1, 3)
    assert noise.min() >= -1 and noise.max() <= 1 and noise.std() > 0.1  # a texture, not a constant
    octaves = fractal_noise(points, 0.1, 3)
    assert np.array_equal(octaves, (plain_value_noise(points, 0.1, 3) + 0.5 * plain_value_noise(points, 0.05, 3 + 7919)
                                    + 0.25 * plain_value_noise(points, 0.025, 3 + 2 * 7919)) / 1.75)


def test_vertex_normals_sum_the_faces_as_np_add_at_does():
    subject = sample_subject(rng_for(0, "subject", 0))
    vertices, faces = subject.vertices, subject.faces
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    summed = np.zeros_like(vertices, dtype=np.float64)
    for k in range(3):
        np.add.at(summed, faces[:, k], np.cross(b - a, c - a))
    plain = (summed / np.maximum(np.linalg.norm(summed, axis=1, keepdims=True), 1e-12)).astype(np.float32)
    assert np.array_equal(vertex_normals(vertices, faces), plain)


def test_the_hairs_nearest_point_search_stops_where_it_no_longer_matters():
    """Past ``_full_density_depth`` the density profile is exactly 1, so the shortened search gives
    the profile of the full one at every point, near the shell and far from it."""
    subject = sample_subject(rng_for(0, "subject", 2), pixel=pixel_size(RADIUS, 128))
    assert subject.shell is not None
    rng = np.random.default_rng(1)
    bound = _full_density_depth(subject)
    picks = rng.integers(len(subject.shell_vertices), size=4000)
    depth = rng.uniform(0.0, 3 * bound, (4000, 1))  # into the hair, to three times the bound
    points = subject.shell_vertices[picks] - depth * subject.shell_normals[picks]
    full, short = subject.shell.distance(points, 1.0), subject.shell.distance(points, bound)
    assert (full < bound).mean() > 0.2 and (full > bound).mean() > 0.2  # both sides of the bound are tested
    inside = full < bound
    assert np.array_equal(short[inside], full[inside]) and np.all(short[~inside] == np.float32(bound))
    fuzz = np.float32(subject.shell_fuzz.max())
    for depth in (fuzz, np.float32(0.0)):  # the deepest fuzz and none: the profile's extremes
        assert np.array_equal(smoothstep(0.0, HAIR_FUZZ_RAMP, full / SCALE - depth),
                              smoothstep(0.0, HAIR_FUZZ_RAMP, short / SCALE - depth))
