"""What a stopped batch leaves behind, so that no return it sent is lost with the exception that stopped it."""

from collections.abc import Mapping, Sequence

from ._results import Outcome, ReturnState
from ._retry import Attempts

_NOTE_START = "cancel_returns stopped"


def report_stop(
    error: BaseException,
    return_ids: Sequence[int],
    outcomes: Mapping[int, Outcome],
    in_progress: Mapping[int, Attempts],
) -> None:
    """Put on ``error`` (the exception the batch stops with) the outcome of every return that was sent, in
    input order, as ``outcomes``, and the ids of those never sent as ``not_sent``. A return still in
    progress (by index in ``in_progress``) counts as stopped now: its request in flight as abandoned."""
    outcomes = dict(outcomes)
    for index, attempts in list(in_progress.items()):
        so_far = attempts.outcome_so_far()
        if so_far is not None and index not in outcomes:
            outcomes[index] = Outcome(return_ids[index], error=so_far)
    sent = [outcomes[index] for index in range(len(return_ids)) if index in outcomes]
    not_sent = [return_id for index, return_id in enumerate(return_ids) if index not in outcomes]
    unsure = sum(outcome.error is not None and outcome.error.may_have_started for outcome in sent)
    refused = sum(outcome.state is ReturnState.NOT_SENT for outcome in sent)
    note = (
        f"{_NOTE_START}: {len(sent)} of {len(return_ids)} returns were begun, their outcomes are in this "
        f"exception's .outcomes ({sum(outcome.ok for outcome in sent)} started, {unsure} may have started, "
        f"{refused} not started: refused without acting, or kept back by the limits); {len(not_sent)} were "
        "not begun (.not_sent)"
    )
    # object.__setattr__: the exception may be a frozen dataclass, whose own __setattr__ refuses.
    object.__setattr__(error, "outcomes", sent)
    object.__setattr__(error, "not_sent", not_sent)
    # Said again once the requests in flight are known: the note is replaced, not repeated.
    notes = [earlier for earlier in getattr(error, "__notes__", ()) if not earlier.startswith(_NOTE_START)]
    object.__setattr__(error, "__notes__", [*notes, note])


def reported_on(error: BaseException | None) -> BaseException | None:
    """The exception that carries a stop's report: ``error``, or the one it was raised while handling (a
    second Ctrl-C during the first's wait carries none of its own); ``None`` when neither carries one."""
    while error is not None:
        if hasattr(error, "not_sent"):
            return error
        error = error.__context__
    return None


def stop_report(error: BaseException | None) -> tuple[list[Outcome], list[int]] | None:
    """``outcomes`` and ``not_sent`` of the exception that carries ``error``'s report (see ``reported_on``)."""
    carrier = reported_on(error)
    if carrier is None:
        return None
    return list(getattr(carrier, "outcomes", [])), list(getattr(carrier, "not_sent", []))
