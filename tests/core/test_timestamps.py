"""RFC 3339 timestamps as query parameters carry them: every valid form is taken."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from guidepath.core.domain.errors import Invalid
from guidepath.core.domain.timestamps import parse_timestamp

UTC_NOON = datetime(2026, 1, 31, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("raw", ["2026-01-31T12:00:00Z", "2026-01-31t12:00:00z", "2026-01-31T12:00:00+00:00",
                                 "2026-01-31T13:00:00+01:00", "2026-01-31T12:00:00", "2026-01-31T12:00:00.000000000Z"])
def test_valid_forms_mean_the_same_instant(raw):
    assert parse_timestamp(raw, field="since") == UTC_NOON


def test_a_leap_second_is_kept_in_order():
    leap = parse_timestamp("2016-12-31T23:59:60Z", field="until")
    assert datetime(2016, 12, 31, 23, 59, 59, tzinfo=timezone.utc) < leap < datetime(2017, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("raw", ["yesterday", "2026-13-01T00:00:00Z", "2026-01-31T25:00:00Z", "", "²"])
def test_anything_else_is_a_422_naming_the_field(raw):
    with pytest.raises(Invalid) as refused:
        parse_timestamp(raw, field="since")
    assert refused.value.field == "since" and refused.value.status == 422
