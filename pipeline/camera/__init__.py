"""Camera conventions (EG3D / OpenCV), rays and pose fitting."""
