"""What the 3D-aware GANs (EG3D, pi-GAN) share around their networks: the face images and
cameras they train on, the discriminator's augmentation, and training steps on the engine."""
