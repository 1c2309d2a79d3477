"""What the connector masks of its API keys in everything it writes: each key, and every part of one.

The CDK masks the whole config value ('tk_live_a,tk_live_b') by exact match, and only what it filters:
logs, traces, error messages (airbyte_cdk.utils.airbyte_secrets_utils.filter_secrets, each secret
replaced in turn). A server or proxy may quote a key cut short ("Bearer tk_live_3fQ9…" in an error
page), and a key may be listed beside a truncated copy of itself, so each key is registered with its
pieces, longest first, for a piece masked inside a longer one would leave the rest of it showing:

    key_fragments("tk_live_3fQ9xA")
    -> ["tk_live_3fQ9xA", "tk_live_3fQ9x", "k_live_3fQ9xA", …, "tk_live_3", …]   the key, cut at either end
       + ["k_live_3", "_live_3f", …, "_3fQ9xA"]  every 8 characters in a row: no 8 of them are left showing

The public prefix tk_live_ on its own is no secret. Nor is short junk: masking a stray "a" would blank
every "a" of every message, and 8 characters are where a fragment starts to matter.
"""

from typing import Any, Iterable, List, Mapping

from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets

KEY_PREFIX = "tk_live_"
MIN_MASKED_LENGTH = 8


def key_fragments(key: str) -> List[str]:
    """The pieces of `key` to mask, longest first (see the module docstring)."""
    starts = range(len(key) - MIN_MASKED_LENGTH + 1)  # empty for short junk
    pieces = {key[:len(key) - at] for at in starts} | {key[at:] for at in starts} | {key[at:at + MIN_MASKED_LENGTH] for at in starts}
    return _longest_first(pieces - {KEY_PREFIX})


def masked_in_order(keys: Iterable[str]) -> List[str]:
    """Every key's pieces, the longest of all keys first: a key that holds another (a truncated copy
    listed beside it) is masked whole before the shorter one is."""
    return _longest_first({piece for key in keys for piece in key_fragments(key)})


def _longest_first(pieces: Iterable[str]) -> List[str]:
    return sorted(pieces, key=lambda piece: (-len(piece), piece))


def register_key_secrets(config: Any) -> None:
    """Masks each key of the config's `api_key`, and its pieces, in everything the connector writes from now on.

    The CDK replaces its list when a command starts, so SourceMeetlog calls this once as each command
    starts, whether or not the config is valid (a real key may sit next to a typo)."""
    value = config.get("api_key") if isinstance(config, Mapping) else None
    for piece in masked_in_order(key.strip() for key in (value.split(",") if isinstance(value, str) else ())):
        add_to_secrets(piece)
