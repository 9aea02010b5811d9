"""Long hair: a curtain of hair that falls from the sides and back of the head.

The scalp's hair shell (``subject.hair_shell``) follows the skull, so on its own
it makes short hair. Hair longer than that leaves the head: from about the
temples down it falls under gravity, straight down from the widest part of the
head, until it rests on what is below (the neck, the back, the shoulders). That
is the curtain: a thin closed slab around the back half of the head, built on a
grid of columns (azimuths about the head's vertical axis) and rows (heights).

- Its inner face hangs at the *envelope*: for each column, the running maximum,
  from the top down, of the distance from the axis to the outermost surface
  (body or hair shell) at that height, found by casting rays at the axis. So it
  falls plumb from the widest part of the head and lies on the back.
- At the top it is sunk into the shell, its outer face flush with the shell's,
  and it comes out over a few centimetres (``EMERGES``): no ledge, no gap.
- Where the envelope juts out past the head (a shoulder), the hair rests on it
  and the column ends there: hair on the sides stops on the shoulders, at the
  back it goes on down.
- Its thickness tapers to zero at its two front edges and at the tips, which
  vary from lock to lock. Where the thickness is zero its two faces meet, so a
  ray's path through the slab is the hair it crosses: tips and edges get
  fractional alpha from the same optical depth as the rest of the hair.

Sunk into the shell at the top, the slab overlaps it, so a ray may enter the
curtain and then the shell before leaving either: the ray caster counts the hair
from the first entry to the point where the ray has left every hair volume it
entered (``raycast._hair_depth``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.synth.meshcast import MeshCaster
from pipeline.synth.texture import smoothstep, value_noise

REACH = 0.6  # metres from the axis the envelope's rays start (outside any body)
TOP_ABOVE_BROWS = 0.045  # metres: the curtain grows out of the shell from here (about the temples)
EMERGES = 0.05  # metres below the top over which it comes out of the shell to hang outside it
TIP_TAPER = 0.04  # metres over which it thins to the tips
EDGE_TAPER = 0.3  # radians over which it thins to its front edges
RESTS = 0.03  # metres past the head's widest that the envelope juts where the hair rests (shoulders)
LOCKS = 0.025  # metres the tips vary by from lock to lock
LOCK_ANGLE = 0.12  # radians about a lock is wide at the tips
ROW_STEP = 0.005  # metres between rows


@dataclass(frozen=True)
class Curtain:
    """A closed slab of hair, head-local metres."""

    vertices: np.ndarray  # (V, 3)
    faces: np.ndarray  # (F, 3), outward
    column: np.ndarray  # (V,) the column of each vertex (for its texture coordinates)


def _envelope(casters: list[MeshCaster], centre: np.ndarray, angles: np.ndarray, heights: np.ndarray) -> np.ndarray:
    """Distance (rows, columns) from the vertical axis through ``centre`` (x, z) to the outermost
    surface of any of ``casters`` at each height and azimuth (0 where nothing is there)."""
    a, y = np.meshgrid(angles, heights)
    outward = np.stack([np.sin(a), np.zeros_like(a), np.cos(a)], axis=-1).reshape(-1, 3)
    origins = outward * REACH + np.stack([np.full(a.size, centre[0]), y.ravel(), np.full(a.size, centre[1])], axis=-1)
    radius = np.zeros(a.size)
    for caster in casters:
        hits = caster.closest(origins, -outward)
        radius = np.maximum(radius, np.where(hits.hit, REACH - hits.t, 0.0))
    return radius.reshape(a.shape)


def _columns(front: float, columns: int) -> np.ndarray:
    """Azimuths (0: the face's direction) from one front edge round the back to the other."""
    return np.linspace(front, 2 * np.pi - front, columns)


def curtain(body: MeshCaster, shell: MeshCaster, centre: np.ndarray, brows: float, chin: float, length: float,
            thickness: float, front: float, seed: int, columns: int) -> Curtain:
    """The curtain of hair falling ``length`` metres below the chin (negative: above it), ``thickness``
    metres thick, round the back of the head between azimuths ``front`` and 2 pi - ``front`` (0: the
    face's direction, pi/2: the ears), from casters of the body and the hair shell in head-local
    metres, about the vertical axis through ``centre`` (x, z)."""
    angles = _columns(front, columns)
    top, bottom = brows + TOP_ABOVE_BROWS, chin - length
    probe = np.arange(top, bottom - LOCKS - ROW_STEP, -ROW_STEP)
    envelope = _envelope([body, shell], centre, angles, probe)
    widest = np.maximum.accumulate(envelope, axis=0)
    head_rows = probe >= chin
    head = widest[head_rows].max(axis=0)
    lock = value_noise(np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], axis=-1), LOCK_ANGLE, seed)
    tips = bottom + LOCKS * lock  # (columns,)
    rests = (envelope > head + RESTS) & ~head_rows[:, None]
    rest_at = np.where(rests.any(axis=0), probe[np.argmax(rests, axis=0)] + ROW_STEP, -np.inf)  # the row above
    tips = np.maximum(tips, rest_at)
    rows = max(int(np.ceil((top - tips.min()) / ROW_STEP)), 8)
    along = np.linspace(0.0, 1.0, rows)[:, None]
    heights = top + (tips[None, :] - top) * along  # (rows, columns): each column's own rows
    hang = np.stack([np.interp(-heights[:, j], -probe, widest[:, j]) for j in range(columns)], axis=1)
    edge = np.minimum(angles - front, 2 * np.pi - front - angles)
    taper = smoothstep(tips, tips + TIP_TAPER, heights) * smoothstep(0.0, EDGE_TAPER, edge)[None, :]
    outer_radius = hang + thickness * taper * smoothstep(top, top - EMERGES, heights)
    inner_radius = np.maximum(outer_radius - thickness * taper, 0.0)
    outward = np.stack([np.sin(angles), np.zeros_like(angles), np.cos(angles)], axis=-1)

    def surface(radius: np.ndarray) -> np.ndarray:
        points = radius[..., None] * outward[None, :, :]
        points[..., 0] += centre[0]
        points[..., 2] += centre[1]
        points[..., 1] = heights
        return points.reshape(-1, 3)

    grid = np.arange(rows * columns).reshape(rows, columns)
    a, b, c, d = grid[:-1, :-1], grid[:-1, 1:], grid[1:, :-1], grid[1:, 1:]
    # looking at the outer face from outside, columns run to the left... see ``test_long_hair``
    outer = np.concatenate([np.stack([a, c, b], -1).reshape(-1, 3), np.stack([b, c, d], -1).reshape(-1, 3)])
    inner = outer[:, ::-1] + rows * columns
    vertices = np.concatenate([surface(outer_radius), surface(inner_radius)]).astype(np.float32)
    column = np.tile(np.arange(columns), 2 * rows)
    return Curtain(vertices=vertices, faces=np.concatenate([outer, inner]).astype(np.int32), column=column)


def columns_for(front: float, radius: float, pixel: float | None, max_px: float) -> int:
    """Columns enough that the curtain's facets, seen edge-on at ``radius`` metres from the axis, stay
    under ``max_px`` pixels of ``pixel`` metres (a chord of angle phi sags r phi^2 / 8); 48 without a
    pixel size."""
    if pixel is None:
        return 48
    step = np.sqrt(8 * max_px * pixel / radius)
    return int(np.clip(np.ceil((2 * np.pi - 2 * front) / step) + 1, 24, 512))
