"""Foundations every layer uses: errors, keys and fingerprints, progress and job records, commit pacing, devices,
the Ranking type and the Ray executor."""
