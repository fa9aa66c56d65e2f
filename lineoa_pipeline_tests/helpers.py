"""Paths the tests share: the project's root and the shared sample exports beside a checkout."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"  # absent in a user's clone: the tests that read it skip
