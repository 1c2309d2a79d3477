"""Looking for any trace of an API key in text the connector produced."""

FRAGMENT_LENGTH = 8


def key_fragments(key: str, length: int = FRAGMENT_LENGTH):
    """Every run of `length` characters of the key's secret part (the tk_live_ prefix is public)."""
    secret = key[len("tk_live_"):] if key.startswith("tk_live_") else key
    return {secret[i : i + length] for i in range(len(secret) - length + 1)}


def assert_no_key_fragment(text: str, *keys: str) -> None:
    for position, key in enumerate(keys, start=1):
        leaked = sorted(fragment for fragment in key_fragments(key) if fragment in text)
        assert not leaked, f"key #{position} leaked: {len(leaked)} fragment(s) of 8+ characters found in the output"
