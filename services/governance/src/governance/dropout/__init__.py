"""Dropout control (控辍保学): the register of pupils who dropped out or are at risk, per county."""
