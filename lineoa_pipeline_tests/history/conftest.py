"""The sample history every reader test starts from (`sample.py`)."""

from pathlib import Path

import pytest

from lineoa_pipeline_tests.history.sample import History, build_history


@pytest.fixture
def history(tmp_path: Path) -> History:
    return build_history(tmp_path)
