from __future__ import annotations

import pytest

from localdev.fold_soon import FoldDebounce


def test_first_increment_folds_at_once_then_at_most_once_per_interval() -> None:
    debounce = FoldDebounce(interval_s=1.0)
    assert debounce.after_increment(now=10.0) == 0.0
    assert debounce.after_increment(now=10.0) is None  # the scheduled fold will see it
    debounce.fold_starting(now=10.0)
    assert debounce.after_increment(now=10.2) == pytest.approx(
        0.8
    )  # trailing fold, one interval after the last
    assert debounce.after_increment(now=10.5) is None
    debounce.fold_starting(now=11.0)
    assert debounce.after_increment(now=15.0) == 0.0  # long quiet: fold right away


def test_an_increment_during_a_fold_gets_another_fold() -> None:
    debounce = FoldDebounce(interval_s=2.0)
    assert debounce.after_increment(now=0.0) == 0.0
    debounce.fold_starting(now=0.1)
    # Committed after the fold read the shards: it must not be left for the minutely fold.
    assert debounce.after_increment(now=0.15) == pytest.approx(1.95)
