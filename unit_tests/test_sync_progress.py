"""What an interrupted sync leaves in its state, so the next attempt skips what it already sent."""

from source_meetlog.components.sync_progress import PROGRESS_KEY, SyncProgress, fingerprint


def fp(record_id, created_at="2026-05-08T09:14:22Z", status="completed"):
    return fingerprint({"id": record_id, "created_at": created_at, "status": status}, "created_at", "status")


def test_a_fingerprint_changes_with_the_id_the_cursor_value_or_the_status():
    assert len({fp("a"), fp("b"), fp("a", created_at="2026-05-08T09:14:23Z"), fp("a", status="processing")}) == 4
    assert fp("a") == fp("a")


def test_records_handed_out_count_only_once_their_page_is_done():
    progress = SyncProgress(set())
    progress.hand_out(fp("a"))
    assert progress.as_list_state() == {}

    progress.page_done()

    assert SyncProgress.from_list_state(progress.as_list_state()).already_handed_out(fp("a"))


def test_the_next_attempt_skips_what_the_earlier_one_committed_and_keeps_it_in_its_own_state():
    earlier = SyncProgress(set())
    earlier.hand_out(fp("a"))
    earlier.page_done()

    resumed = SyncProgress.from_list_state(earlier.as_list_state())
    resumed.hand_out(fp("c"))
    resumed.page_done()

    assert resumed.already_handed_out(fp("a")) and not resumed.already_handed_out(fp("c"))
    again = SyncProgress.from_list_state(resumed.as_list_state())
    assert again.already_handed_out(fp("a")) and again.already_handed_out(fp("c"))


def test_a_record_that_changed_since_it_was_handed_out_is_not_skipped():
    earlier = SyncProgress(set())
    earlier.hand_out(fp("a", status="processing"))
    earlier.page_done()

    assert not SyncProgress.from_list_state(earlier.as_list_state()).already_handed_out(fp("a", status="completed"))


def test_a_progress_value_it_did_not_write_means_start_over():
    for foreign in (None, 7, "not base64!", "YWJj"):  # "abc": not whole fingerprints
        assert SyncProgress.from_list_state({PROGRESS_KEY: foreign}).as_list_state() == {}


def test_the_state_takes_8_bytes_a_record_before_base64():
    progress = SyncProgress(set())
    for n in range(3000):
        progress.hand_out(fp(f"id-{n}"))
    progress.page_done()

    assert len(progress.as_list_state()[PROGRESS_KEY]) == 3000 * 8 * 4 // 3
