"""The volume renderer every 3D model shares (EG3D, pi-GAN, the NeRF stages): stateless functions on tensors, any device."""
