"""Decoy number service: the code the receiver and sender functions share."""
