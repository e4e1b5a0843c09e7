"""The date and time filters: the reader's zone for instants, calendar dates as they are."""

from datetime import UTC, date, datetime
from types import SimpleNamespace
from unittest import mock

from lms import templating

INSTANT = datetime(2026, 12, 5, 2, 30, tzinfo=UTC)


def reader(zone: str | None):
    user = SimpleNamespace(is_authenticated=zone is not None, timezone=zone)
    return mock.patch.object(templating, "current_user", user)


def test_instants_are_shown_in_the_readers_zone_and_dates_are_not_shifted(app):
    with app.test_request_context("/"), reader("America/New_York"):
        assert templating.format_datetime(INSTANT) == "04 Dec 2026, 21:30 EST"
        assert templating.format_date(INSTANT) == "04 Dec 2026"
        assert templating.format_date(date(2026, 12, 5)) == "05 Dec 2026"
        naive = INSTANT.replace(tzinfo=None)  # read as UTC
        assert templating.format_datetime(naive) == "04 Dec 2026, 21:30 EST"
        templating.show_times_in_utc()
        assert templating.format_datetime(INSTANT) == "05 Dec 2026, 02:30 UTC"


def test_anonymous_readers_and_unknown_zones_get_utc(app):
    for zone in (None, "UTC", "Mars/Olympus_Mons", "../../etc/passwd", ""):
        with app.test_request_context("/"), reader(zone):
            assert templating.format_datetime(INSTANT) == "05 Dec 2026, 02:30 UTC", zone
            assert templating.format_date(INSTANT) == "05 Dec 2026", zone
    assert templating.format_datetime(INSTANT) == "05 Dec 2026, 02:30 UTC"  # no request
    assert templating.format_datetime(None) == templating.format_date(None) == ""
