"""What is masked of the API keys (core/key_secrets.py): no 8 characters of a key in a row survive the
CDK's filter, whatever part of it a message quotes, and the public prefix and short junk stay readable."""

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets, update_secrets

from source_meetlog.core.key_secrets import KEY_PREFIX, key_fragments, register_key_secrets

KEY_CHARACTERS = string.ascii_letters + string.digits + "_-"
keys = st.text(KEY_CHARACTERS, min_size=1, max_size=40).map(lambda body: KEY_PREFIX + body)


def runs_of_eight(key: str) -> set:
    return {key[at:at + 8] for at in range(len(key) - 7)} - {KEY_PREFIX}


@pytest.fixture(autouse=True)
def no_secrets_yet():
    update_secrets([])
    yield
    update_secrets([])


@settings(max_examples=300, deadline=None)
@given(listed=st.lists(keys, min_size=1, max_size=3), which=st.integers(0, 2), start=st.integers(0, 60),
       end=st.integers(0, 60), around=st.text(" :\"'…<>/=", max_size=3))
def test_any_part_of_a_key_a_message_quotes_leaves_no_8_characters_of_it(listed, which, start, end, around):
    update_secrets([])
    register_key_secrets({"api_key": ", ".join(listed)})
    key = listed[which % len(listed)]
    quoted = key[min(start, end):max(start, end)]

    masked = filter_secrets(f"Rejected header Authorization: Bearer{around}{quoted}{around}…")

    assert not any(run in masked for run in runs_of_eight(key))


def test_a_key_listed_beside_a_truncated_copy_of_it_is_masked_whole():
    whole = KEY_PREFIX + "Qm7xR2vK9pLw4ZtN8sYb3HcJ6fDg1EaU"
    register_key_secrets({"api_key": f"{whole[:20]}, {whole}"})

    assert filter_secrets(f"Bearer {whole}.") == "Bearer ****."


def test_the_public_prefix_and_short_junk_stay_readable():
    register_key_secrets({"api_key": "tk_live_Qm7xR2vK9pLw, a, tk_"})

    assert filter_secrets("keys start with 'tk_live_'; a stray a") == "keys start with 'tk_live_'; a stray a"
    assert key_fragments("tk_live") == [] and KEY_PREFIX not in key_fragments(KEY_PREFIX + "x")


def test_the_key_and_its_cut_ends_come_first_longest_first():
    pieces = key_fragments(KEY_PREFIX + "Qm7xR2vK9pLw")

    assert pieces[0] == KEY_PREFIX + "Qm7xR2vK9pLw"
    cut = [p for p in pieces if (KEY_PREFIX + "Qm7xR2vK9pLw").startswith(p) or (KEY_PREFIX + "Qm7xR2vK9pLw").endswith(p)]
    assert [len(p) for p in cut] == sorted((len(p) for p in cut), reverse=True)
