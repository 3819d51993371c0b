"""Bad input to every filter gets a typed error that names the field (and line, value, range)."""

from __future__ import annotations

import pytest

from amzn_nova_forge.core.enums import FilterMethod, Model, Platform, TrainingMethod
from amzn_nova_forge.dataset import JSONLDatasetLoader
from amzn_nova_forge.errors import ConfigError, DataPrepError
from tests.curation.conftest import sha

TEXT_FILTERS = [
    (FilterMethod.DEFAULT_TEXT_FILTER, {}),
    (FilterMethod.EXACT_DEDUP, {}),
    (FilterMethod.FUZZY_DEDUP, {}),
    (FilterMethod.LANGUAGE_DETECTION, {"languages": ["en"]}),
]
CPT = {"training_method": TrainingMethod.CPT, "model": Model.NOVA_LITE_2, "platform": Platform.SMTJ}


@pytest.mark.parametrize(("method", "kw"), TEXT_FILTERS)
def test_missing_text_field_names_field_file_and_line(jsonl, method, kw):
    src = jsonl([{"text": "fine text here"}, {"body": "no text field"}])
    before = sha(src)
    loader = JSONLDatasetLoader().load(str(src))
    with pytest.raises(DataPrepError) as e:
        loader.filter(method=method, **kw).execute()
    err = e.value
    assert (err.line, err.field, err.path) == (2, "$.text", str(src))
    assert "no field 'text'" in str(err) and "body" in str(err) and "text_field=" in str(err)
    assert sha(src) == before


@pytest.mark.parametrize(("method", "kw"), TEXT_FILTERS)
def test_wrong_type_in_text_field_names_the_type(jsonl, method, kw):
    src = jsonl([{"content": ["a", "list"]}])
    loader = JSONLDatasetLoader().load(str(src))
    with pytest.raises(DataPrepError, match=r"field 'content' must be a string to filter on it, got list") as e:
        loader.filter(method=method, text_field="content", **kw).execute()
    assert e.value.field == "$.content" and e.value.line == 1


@pytest.mark.parametrize(("method", "kw"), [*TEXT_FILTERS, (FilterMethod.INVALID_RECORDS, CPT)])
def test_empty_data_is_refused(method, kw):
    loader = JSONLDatasetLoader.from_records([])
    with pytest.raises(DataPrepError, match="no records to filter"):
        loader.filter(method=method, **kw).execute()


@pytest.mark.parametrize(("method", "kw"), [*TEXT_FILTERS, (FilterMethod.INVALID_RECORDS, CPT)])
def test_filter_before_load_is_refused(method, kw):
    with pytest.raises(DataPrepError, match=r"load\(path\) before filter"):
        JSONLDatasetLoader().filter(method=method, **kw)


def test_a_record_dropped_earlier_is_not_checked_by_later_filters(jsonl):
    src = jsonl([{"text": "hello there world"}, {"other": 1}])
    loader = JSONLDatasetLoader().load(str(src))
    loader.filter(method=FilterMethod.INVALID_RECORDS, **CPT).filter(method=FilterMethod.EXACT_DEDUP).execute()
    assert list(loader) == [{"text": "hello there world"}]


@pytest.mark.parametrize(
    ("method", "kw", "message"),
    [
        (FilterMethod.FUZZY_DEDUP, {"threshhold": 0.8}, "did you mean 'threshold'"),
        (FilterMethod.FUZZY_DEDUP, {"threshold": 1.5}, r"threshold must be a number in \[0.0, 1.0\]; got 1.5"),
        (FilterMethod.FUZZY_DEDUP, {"num_perm": 0}, r"num_perm must be an integer in \[2, 4096\]; got 0"),
        (FilterMethod.FUZZY_DEDUP, {"num_bands": 4}, "both num_bands and rows_per_band"),
        (FilterMethod.FUZZY_DEDUP, {"num_bands": 40, "rows_per_band": 8}, "exceeds num_perm"),
        (FilterMethod.FUZZY_DEDUP, {"shingle": "byte"}, "shingle must be 'char'"),
        (FilterMethod.DEFAULT_TEXT_FILTER, {"min_chars": -1}, "min_chars must be an integer"),
        (FilterMethod.DEFAULT_TEXT_FILTER, {"extra_args": {"max_url_ratio": 0.3}}, "max_url_to_text_ratio"),
        (FilterMethod.EXACT_DEDUP, {"text_field": ""}, "text_field must name a field"),
        (FilterMethod.EXACT_DEDUP, {"output_format": "csv"}, "output_format must be 'jsonl' or 'parquet'"),
        (FilterMethod.LANGUAGE_DETECTION, {}, "needs languages="),
        (FilterMethod.LANGUAGE_DETECTION, {"languages": "en"}, "needs languages="),
        (FilterMethod.LANGUAGE_DETECTION, {"languages": ["en"], "min_score": 2}, "min_score must be"),
        (FilterMethod.LANGUAGE_DETECTION, {"languages": ["en"], "model_path": "s3://b/lid.bin"}, "langid"),
        (FilterMethod.INVALID_RECORDS, {"training_method": TrainingMethod.SFT_LORA}, "needs model, platform"),
        ("no_such_filter", {}, "Unknown filter method 'no_such_filter'"),
    ],
)
def test_bad_keywords_fail_at_filter_time(jsonl, method, kw, message):
    loader = JSONLDatasetLoader().load(str(jsonl([{"text": "x"}])))
    with pytest.raises(ConfigError, match=message):
        loader.filter(method=method, **kw)


def test_bad_executor_is_refused(jsonl):
    loader = JSONLDatasetLoader().load(str(jsonl([{"text": "x"}])))
    with pytest.raises(ConfigError, match="Unknown executor 'gpu'"):
        loader.filter(method=FilterMethod.EXACT_DEDUP).execute(executor="gpu")
    loader.execute(executor="serial")  # the queued filter was kept
    assert loader.last_curation.steps[0].method == "exact_dedup_filter"
