"""The state codec agrees with the json module."""

import json

import pytest
from hypothesis import given, strategies as st

from pv import jsonline

scalars = st.none() | st.booleans() | st.integers() | \
    st.floats(allow_nan=False, allow_infinity=False) | st.text()
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(), inner, max_size=4), max_leaves=12)


@given(values)
def test_round_trip_and_json_agrees(value):
    text = jsonline.dumps(value)
    assert "\n" not in text
    assert json.loads(text) == value
    assert jsonline.loads(text) == value
    assert jsonline.loads(json.dumps(value)) == value


def test_reads_what_json_writes_with_spaces_and_escapes():
    text = '{ "a" : [1, 2.5e3, -0.5] , "b":"\\u00e9\\ud83d\\ude00\\n", "c": null }'
    assert jsonline.loads(text) == json.loads(text)


@pytest.mark.parametrize("bad", ["", "{", '{"a":}', '{"a":1} x', '"open', "[1,]", "nul"])
def test_rejects_bad_text(bad):
    with pytest.raises(ValueError):
        jsonline.loads(bad)
