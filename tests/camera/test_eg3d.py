import numpy as np

from pipeline.camera.eg3d import INTRINSICS, RADIUS, camera_label, orbit_camera, pixel_rays, split_label


def test_frontal_camera_matches_eg3d_convention():
    pose = orbit_camera(0.0, 0.0)
    assert np.allclose(pose[:3, 3], [0, 0, RADIUS])
    assert np.allclose(pose[:3, :3], np.diag([1, -1, -1]))


def test_label_layout_round_trips():
    pose = orbit_camera(0.3, -0.1)
    label = camera_label(pose)
    assert label.shape == (25,)
    assert np.allclose(label[16:], [4.2647, 0, 0.5, 0, 4.2647, 0.5, 0, 0, 1])
    back, intrinsics = split_label(label)
    assert np.allclose(back, pose) and np.allclose(intrinsics, INTRINSICS)


def test_centre_ray_hits_the_origin_and_image_y_points_down():
    label = camera_label(orbit_camera(0.4, 0.2))
    origin, rays = pixel_rays(label, 9, 9)
    centre = rays[4, 4]
    closest = origin + centre * np.dot(-origin, centre)
    assert np.linalg.norm(closest) < 1e-9
    assert rays[0, 4, 1] > rays[8, 4, 1]  # the top row looks further up (world y)
    # field of view: the half-angle at the edge pixel is about atan(0.5 / 4.2647)
    half = np.degrees(np.arccos(np.dot(rays[4, 0], centre)))
    assert abs(half - np.degrees(np.arctan((0.5 - 0.5 / 9) / 4.2647))) < 1e-6
