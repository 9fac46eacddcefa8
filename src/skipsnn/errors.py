"""One exception type for bad input.

Anything a user can get wrong (a malformed file, an infeasible config, a negative time
constant) raises `SkipSNNError` with one sentence naming the problem. The CLI turns it
into that sentence on stderr and exit status 2, never a traceback.
"""


class SkipSNNError(ValueError):
    """Bad input from the user: the message is one plain sentence."""


class ParameterError(SkipSNNError):
    """A neuron or network parameter is out of its valid range."""


class DataError(SkipSNNError):
    """A data file or dataset root is missing or malformed."""


class ConfigError(SkipSNNError):
    """A configuration is malformed or infeasible."""


def shown(value, chars: int = 60) -> str:
    """``repr(value)``, cut in the middle past ``chars`` characters: a value quoted in an
    error stays one readable sentence however long it is (a config may hold 1 MiB)."""
    text = repr(value)
    return text if len(text) <= chars else f"{text[: chars // 2]}...{text[-chars // 2 :]}"


def check_choice(what: str, value, choices, error: type[SkipSNNError] = ConfigError) -> None:
    """Raise ``error("unknown <what> 'value'; choose one of a, b, c")`` unless ``value`` is
    one of ``choices``: the one way a name picked from a fixed set is checked."""
    if value not in choices:
        raise error(f"unknown {what} {shown(value)}; choose one of {', '.join(map(str, choices))}")


def check_keys(where: str, given, known, error: type[SkipSNNError] = ConfigError) -> None:
    """Raise ``error`` with one sentence for a key of ``given`` that is not a string, or
    ("unknown key 'k' in <where>; known keys: ...") for the first (sorted) key that is not
    in ``known``: the one way a section's keys are checked."""
    bad = [k for k in given if not isinstance(k, str)]
    if bad:
        raise error(f"{where} has the key {shown(bad[0])}, which is not a name")
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise error(
            f"unknown key {shown(unknown[0])} in {where}; known keys: {', '.join(sorted(known))}"
        )
