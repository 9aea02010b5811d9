"""Image, normal, matting, GAN and temporal metrics."""
