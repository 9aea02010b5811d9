"""Reading and writing: arrays, images, manifests, always atomically."""
