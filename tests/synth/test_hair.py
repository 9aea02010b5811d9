"""Hair strands: their flow from the crown, their texture along it, and Kajiya-Kay's highlight."""

import numpy as np

from pipeline.synth import hair


def sphere_points(count: int, seed: int = 0) -> np.ndarray:
    """Head-local points on a 9 cm sphere about the head's centre, above the ears."""
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(count, 3))
    directions[:, 1] = np.abs(directions[:, 1])
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return hair.HEAD_CENTRE + 0.09 * directions


def test_strands_run_away_from_the_crown_in_the_surface():
    points = sphere_points(2000)
    normals = (points - hair.HEAD_CENTRE) / 0.09
    tangents = hair.strands(points, normals, seed=3)[2]
    np.testing.assert_allclose(np.linalg.norm(tangents, axis=1), 1.0, atol=1e-9)
    assert np.abs(np.einsum("ij,ij->i", tangents, normals)).max() < 1e-9
    # along a strand the point moves away from the crown: its angle to the crown axis grows
    step = points + 1e-3 * tangents
    angle = lambda p: np.arccos(np.clip((p - hair.HEAD_CENTRE) @ hair.CROWN / np.linalg.norm(p - hair.HEAD_CENTRE, axis=1), -1, 1))  # noqa: E731
    far = angle(points) > 0.2  # away from the whorl, where the direction is defined
    assert np.all(angle(step)[far] > angle(points)[far])
    # on the sides of the head, below the crown's level, strands hang down
    side = far & (np.abs(normals[:, 0]) > 0.9)
    assert side.sum() > 20 and np.all(tangents[side, 1] < 0)


def test_strand_texture_is_long_along_the_strands_and_fine_across():
    points = sphere_points(3000, seed=1)
    normals = (points - hair.HEAD_CENTRE) / 0.09
    tangents = hair.strands(points, normals, seed=5)[2]
    across = np.cross(normals, tangents)
    base = hair.density(points, seed=5)
    assert base.min() >= 0.25 and base.max() <= 1.0
    assert abs(base.mean() - hair.MEAN_DENSITY) < 0.05
    offset = 2 * hair.STRAND_WIDTH
    change_along = np.abs(hair.density(points + offset * tangents, seed=5) - base).mean()
    change_across = np.abs(hair.density(points + offset * across, seed=5) - base).mean()
    assert change_across > 3 * change_along


def test_kajiya_kay_is_a_band_across_the_strands():
    tangent, normal = np.array([[0.0, -1.0, 0.0]]), np.array([[0.0, 0.0, 1.0]])

    def lobe(half: np.ndarray, albedo=(0.0, 0.0, 0.0), sparkle: float = 0.5) -> np.ndarray:
        # black hair has no secondary lobe; a sparkle of 0.5 leaves the primary's tilt as SHIFT says
        shape = hair.lobes(np.zeros(1, int), tangent, normal, np.array([albedo]), np.array([0.12]), np.array([80.0]),
                           np.array([sparkle]))
        return hair.kajiya_kay(shape, (half / np.linalg.norm(half))[None])[0]

    # the primary lobe peaks where H is perpendicular to its tilted tangent, wherever H turns about the strand
    shifted = tangent[0] + hair.SHIFT[0] * normal[0]
    peak_a = np.cross(shifted, [1.0, 0.0, 0.0])
    peak_b = np.cross(shifted, [0.6, 0.0, 0.8])
    assert abs(lobe(peak_a)[0] - lobe(peak_b)[0]) < 1e-9
    np.testing.assert_allclose(lobe(peak_a), hair.BAND * 0.12 * 82 / (2 * np.pi) * 0.7)  # the peak: white, at 0.4 + 0.6 x 0.5
    assert lobe(peak_a)[0] > 20 * lobe(np.array([0.0, -1.0, 0.3]))[0]  # H nearly along the strand: dark
    # the secondary lobe adds the hair's hue
    red = lobe(peak_a, albedo=(0.5, 0.1, 0.05))
    assert red[0] > red[1] > red[2] > lobe(peak_a)[2]


def test_strands_follow_the_swayed_level_lines_of_the_texture():
    points = sphere_points(500, seed=2)
    normals = (points - hair.HEAD_CENTRE) / 0.09
    _, _, tangents = hair.strands(points, normals, seed=7)
    across = np.cross(normals, tangents)
    step = 1e-5
    azimuth = lambda p: hair._angles(p, 7)[0]  # noqa: E731
    along = np.angle(np.exp(1j * (azimuth(points + step * tangents) - azimuth(points - step * tangents))))
    sideways = np.angle(np.exp(1j * (azimuth(points + step * across) - azimuth(points - step * across))))
    far = hair._angles(points, 7)[1] > 0.2
    assert np.all(np.abs(along[far]) < 1e-6 * np.abs(sideways[far]).max() + 1e-3 * np.abs(sideways[far]))
