"""Datasets as in-memory tensors (built-in and uploaded), their statistics, augmentation and pictures."""
