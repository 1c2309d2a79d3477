"""Where the list cursor settles after a read: never past a record that may still change or appear."""

from datetime import datetime, timedelta

from source_meetlog.components.partition_router import SettledPoint

READ_AT = datetime(2026, 11, 29, 12, 0, 30, 400000)


def settled(*seen):
    point = SettledPoint(now=READ_AT)
    for moment, is_final in seen:
        point.see(moment, is_final)
    return point.value


def test_given_only_final_records_then_it_settles_at_the_newest():
    assert settled((datetime(2026, 11, 29, 10), True), (datetime(2026, 11, 29, 9), True)) == "2026-11-29T10:00:00Z"


def test_given_a_record_not_final_yet_then_it_settles_one_second_before_it():
    seen = [(datetime(2026, 11, 29, 10), True), (datetime(2026, 11, 29, 9, 30), False), (datetime(2026, 11, 29, 9), True)]
    assert settled(*seen) == "2026-11-29T09:29:59Z"


def test_given_a_record_stamped_in_the_future_then_it_settles_at_the_last_second_before_the_read():
    assert settled((datetime(2099, 1, 1), True), (datetime(2026, 11, 29, 10), True)) == "2026-11-29T12:00:29Z"


def test_given_a_record_made_in_the_second_the_list_was_read_then_that_second_is_read_again_next_time():
    """Another record may still be made in that second, after the read, with the same timestamp."""
    assert settled((datetime(2026, 11, 29, 12, 0, 30), True)) == "2026-11-29T12:00:29Z"


def test_given_a_record_not_final_for_more_than_a_week_then_it_no_longer_holds_the_cursor():
    stuck = READ_AT - timedelta(days=8)
    assert settled((stuck, False), (datetime(2026, 11, 29, 10), True)) == "2026-11-29T10:00:00Z"


def test_given_no_record_with_a_readable_cursor_then_it_does_not_move():
    assert settled() is None


def test_given_a_list_that_kept_changing_then_it_does_not_move():
    point = SettledPoint(now=READ_AT)
    point.see(datetime(2026, 11, 29, 10), True)
    point.unreliable = True
    assert point.value is None
