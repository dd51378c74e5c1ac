"""Every accepted input kind gives the same numbers; bad input is named."""

import numpy as np
import pandas as pd
import polars as pl
import pytest

from cxloop.analytics import lmg, mean_score, nps, pairwise_correlation, top_box


def test_it_accepts_lists_numpy_pandas_and_polars_with_missing_values():
    answers = [10, 9, None, 3, 7, 8, 10]
    expected = nps([10, 9, 3, 7, 8, 10])
    as_float = [np.nan if a is None else float(a) for a in answers]
    for given in (
        answers,
        np.array(as_float),
        pd.Series(answers, dtype="Int64"),
        pd.Series(as_float),
        pl.Series(answers),
        tuple(answers),
    ):
        assert nps(given) == expected


def test_it_names_text_where_numbers_are_expected():
    with pytest.raises(ValueError, match="'seven'"):
        mean_score([1, 2, "seven"])
    with pytest.raises(ValueError, match="text"):
        mean_score(np.array(["1", "2"]))
    with pytest.raises(ValueError, match="dtype"):
        mean_score(pd.Series(["a", "b"]))


def test_it_rejects_tables_and_scalars_where_a_column_is_expected():
    with pytest.raises(ValueError, match="1-D"):
        top_box([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="single value"):
        top_box(4)
    for table in (pd.DataFrame({"a": [1, 2]}), pl.DataFrame({"a": [1, 2]})):
        with pytest.raises(ValueError, match="got a table"):
            nps(table)


def test_frames_of_each_kind_give_the_same_drivers():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 3))
    y = x @ [1.0, 0.5, 0.2] + rng.normal(size=60)
    cols = {"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "y": y}
    expected = lmg(cols, outcome="y").importance
    assert lmg(pd.DataFrame(cols), outcome="y").importance == pytest.approx(expected, abs=1e-14)
    assert lmg(pl.DataFrame(cols), outcome="y").importance == pytest.approx(expected, abs=1e-14)
    by_position = lmg(np.column_stack([x, y]), outcome=3, drivers=[0, 1, 2])
    assert list(by_position.importance.values()) == pytest.approx(list(expected.values()))


def test_it_names_a_missing_column():
    with pytest.raises(ValueError, match="no column"):
        lmg({"a": [1, 2, 3], "y": [1, 2, 3]}, outcome="y", drivers=["a", "b"])


def test_it_accepts_frames_for_correlations():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 1.0, 4.0, 3.0]})
    assert pairwise_correlation(frame)[0, 1] == pytest.approx(frame.corr().iloc[0, 1])
    assert pairwise_correlation(pl.from_pandas(frame))[0, 1] == pytest.approx(0.6)
