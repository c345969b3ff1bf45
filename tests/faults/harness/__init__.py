"""The imgpipe fault suite: a private stack, workers, uploads, faults, checks."""
