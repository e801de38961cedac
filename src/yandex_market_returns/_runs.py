"""A batch's run and bookkeeping, the same for both clients: which returns to send, which to confirm or report
from what the journal knows, what the journal is told as the batch learns, and where each outcome goes when its
request ends. No I/O of its own but the journal's writes: the sync and the async client drive it."""

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

import attrs

from ._batches import report_stop
from ._confirmations import Confirmations
from ._generated import models
from ._journal import Journal, JournalEntry, SqliteJournal
from ._rate_limit import RateLimit
from ._results import FINAL_STATES, Operation, Outcome, ReturnState, Source, Verdict
from ._retry import Attempts
from ._settling import Settlement, next_round_in
from .errors import JournalError, LimitsUnavailableError

logger = logging.getLogger("yandex_market_returns")
# An error's text kept in the journal is cut to this: enough to tell why, not a page of HTML.
_DETAIL_LENGTH = 500


def journal_of(journal: object) -> Journal | None:
    """A ``journal=`` argument as the run uses it: a path is a ``SqliteJournal``; checked before any request."""
    if journal is None or isinstance(journal, SqliteJournal):
        return journal
    if isinstance(journal, str | os.PathLike):
        if not os.fspath(journal):
            raise ValueError("journal must be a path or a Journal, not an empty path")
        return SqliteJournal(journal)
    if all(callable(getattr(journal, name, None)) for name in ("claim", "write", "release")):
        return journal  # type: ignore[return-value]
    raise TypeError(f"journal must be a path or a Journal (claim, write, release), not {type(journal).__name__}")


class Run:
    """One ``cancel_returns`` call's returns: what earlier runs of its journal learnt decides what this one
    does with each, and what this one learns is written before it acts on it.

    - final by the journal (cancelled, already cancelled, failed, not cancellable): reported, not sent;
    - an operation started by an earlier run: confirmed by getOperations, never sent again;
    - a request of an earlier run that may have reached the Market, nothing more known: settled by the
      return's record before anything is sent again (a second cancellation of a cancelled return is refused,
      and says nothing of the first);
    - never sent, or refused without acting: sent (``to_send``).
    """

    def __init__(self, campaign_id: int, return_ids: Sequence[int], journal: Journal | None) -> None:
        self.campaign_id = campaign_id
        self.return_ids = return_ids
        self._journal = journal
        self._claimed = False
        self.to_send: list[int] = []  # indexes, in the order given
        self.first_sent: dict[int, datetime] = {}  # when each return's first request of this run went out

    def open(self, confirmations: Confirmations | None, settlement: Settlement) -> list[tuple[int, Outcome]]:
        """Claim the journal and sort the returns by what it knows of them; the operations started by earlier
        runs go to ``confirmations`` (reported as they stand without one), the requests that may have reached
        the Market to ``settlement``. The outcomes known already, by index, to be delivered at once."""
        if self._journal is None:
            self.to_send = list(range(len(self.return_ids)))
            return []
        entries = self._journal.claim(self.campaign_id)
        self._claimed = True
        _check_entries(self._journal, self.campaign_id, entries)
        known: list[tuple[int, Outcome]] = []
        for index, return_id in enumerate(self.return_ids):
            entry = entries.get(return_id)
            if entry is None or entry.state is ReturnState.NOT_SENT:
                self.to_send.append(index)
            elif entry.state is ReturnState.NOT_CANCELLABLE and entry.source is Source.REQUEST:
                refused = Outcome(return_id, verdict=Verdict(entry.state, entry.source, entry.detail))
                if not settlement.take(index, refused):  # a 400 the record has yet to tell from "cancelled before"
                    known.append((index, refused))
            elif entry.state in FINAL_STATES:
                known.append((index, _from_journal(entry, entry.state)))
            elif entry.operation_id is not None and confirmations is not None:
                confirmations.add(index, entry.operation_id, _started(entry))
            elif entry.operation_id is not None:
                known.append((index, _from_journal(entry, ReturnState.IN_PROGRESS)))
            elif not settlement.take(
                index,
                unknown := _from_journal(entry, ReturnState.UNKNOWN),
                entry.at,
                learnt_late=entry.state is not None,
            ):
                known.append((index, unknown))
        return known

    def close(self) -> None:
        """Let go of the journal, if this run claimed it (one claimed by another run stays theirs). Every entry
        is written by then: a release that fails is said, and loses none of the batch's outcomes."""
        if self._journal is not None and self._claimed:
            self._claimed = False
            try:
                self._journal.release()
            except Exception as error:  # a service's own journal: whatever its database raises
                logger.warning(
                    "the journal %r could not be released: %s: %s", self._journal, type(error).__name__, error
                )

    def sender(self, index: int) -> Callable[[], None]:
        """What to call just before a return's first request goes out: the journal then holds it, since from
        there on the Market may act on it, whatever comes back."""
        journal = self._journal
        entry = JournalEntry(self.campaign_id, self.return_ids[index], None)

        def sending() -> None:
            self.first_sent.setdefault(index, datetime.now(UTC))  # a resend keeps the first request's time
            if journal is not None:
                journal.write(attrs.evolve(entry, at=datetime.now(UTC)))

        return sending

    def learnt(self, outcome: Outcome) -> None:
        """What a return's request or its confirmation ended in (nothing new for one the journal reported)."""
        if self._journal is None or outcome.source is Source.JOURNAL:
            return
        if not self._claimed:  # a request abandoned by a second stop, answered after the run let go
            logger.warning(
                "return %s: %s came after the batch stopped and let go of the journal, and is not in it; a "
                "rerun settles the return by its record",
                outcome.return_id,
                outcome.state.value,
            )
            return
        self._journal.write(_entry(self.campaign_id, outcome))


def _check_entries(journal: Journal, campaign_id: int, entries: object) -> None:
    """A journal's claim is taken at its word only when it gives this store's entries, each under its return id."""
    if not isinstance(entries, Mapping):
        raise JournalError(f"the journal {journal!r} gave {type(entries).__name__}, not entries by return id")
    for return_id, entry in entries.items():
        if not isinstance(entry, JournalEntry) or (entry.campaign_id, entry.return_id) != (campaign_id, return_id):
            raise JournalError(
                f"the journal {journal!r} gave, for return {return_id!r} of store {campaign_id}, an entry of another: "
                f"{entry!r}"[:300]
            )


def _entry(campaign_id: int, outcome: Outcome) -> JournalEntry:
    if outcome.verdict is not None:
        detail = outcome.verdict.detail
    elif outcome.error is not None:
        detail = f"{type(outcome.error).__name__}: {outcome.error}"[:_DETAIL_LENGTH]
    else:
        detail = None
    return JournalEntry(
        campaign_id,
        outcome.return_id,
        outcome.state,
        outcome.source,
        operation_id=None if outcome.operation is None else outcome.operation.id,
        status=None if outcome.status is None else str(outcome.status.value),
        detail=detail,
        at=datetime.now(UTC),
    )


def _operation(entry: JournalEntry) -> Operation | None:
    if entry.operation_id is None:
        return None
    no_limit = RateLimit(limit=None, remaining=None, until=None)  # an earlier run's answer: not this hour's
    return Operation(id=entry.operation_id, type=models.OperationType.RETURN_CANCELLATION, rate_limit=no_limit)


def _status(entry: JournalEntry) -> models.OperationStatusType | None:
    return None if entry.status is None else models.OperationStatusType(entry.status)


def _from_journal(entry: JournalEntry, state: ReturnState) -> Outcome:
    detail = entry.detail
    if state is ReturnState.UNKNOWN and entry.state is None:
        detail = "a request of an earlier run may have reached the Market; nothing more was learnt"
    return Outcome(
        entry.return_id,
        operation=_operation(entry),
        status=_status(entry),
        verdict=Verdict(state, Source.JOURNAL, detail),
    )


def _started(entry: JournalEntry) -> Outcome:
    """An earlier run's started cancellation, to be confirmed as this run's own would be."""
    return Outcome(entry.return_id, operation=_operation(entry), status=_status(entry))


class Batch:
    """One ``cancel_returns`` call's bookkeeping, the same for both clients and without I/O of its own (the
    journal's writes and ``on_outcome`` aside): each return's outcome so far, where it goes when its request
    ends (confirmation, settling, or the caller), and what a stop reports. The clients do the I/O: they send
    what ``open`` says to, run the rounds ``due_in`` asks for, send again what ``looked`` says to, and hand
    each result back. Every outcome is noted before any is delivered: ``on_outcome`` may raise."""

    def __init__(
        self,
        run: Run,
        confirmations: Confirmations | None,
        settlement: Settlement,
        on_outcome: Callable[[Outcome], None] | None,
    ) -> None:
        self.run = run
        self.confirmations = confirmations
        self.settlement = settlement
        self._on_outcome = on_outcome
        self.outcomes: dict[int, Outcome] = {}  # by index: every return sent, as it stands
        self._final: set[int] = set()  # outcomes given to the caller (or to be): nothing later replaces them
        self._resending: set[int] = set()  # sent again now: a stop leaves them unknown

    def open(self) -> list[int]:
        """Claim the journal and deliver what it knows the end of; the indexes of the returns to send."""
        known = self.run.open(self.confirmations, self.settlement)
        self.outcomes.update(known)
        self.outcomes.update(self.settlement.unsettled())
        self._final.update(index for index, _ in known)
        for _, outcome in known:
            self._deliver(outcome)
        return self.run.to_send

    def __bool__(self) -> bool:
        """Whether rounds are still due: operations to confirm, or outcomes to settle."""
        return bool(self.confirmations) or bool(self.settlement)

    def due_in(self) -> float | None:
        """Seconds until the next round of either kind; ``None`` when neither waits."""
        return next_round_in(self.confirmations, self.settlement)

    def settling_due(self) -> bool:
        return self.settlement.due_in() == 0

    def sent(self, index: int, outcome: Outcome | None) -> None:
        """A return's request ended (``None``: the batch stopped before it went out): its outcome waits for
        its status or its record, or is final and delivered."""
        self._resending.discard(index)
        if outcome is None:
            return
        self.outcomes[index] = outcome
        if outcome.operation is None:
            if not self.settlement.take(index, outcome, sent_at=self.run.first_sent.get(index)):
                self._final.add(index)
                self._deliver(outcome)
            if isinstance(outcome.error, LimitsUnavailableError):
                # The shared limits stayed out of reach for a whole retry budget, or refused: every return
                # after it would meet the same, each for a budget of its own. The batch stops; .not_sent
                # holds the rest, and a rerun with the journal resumes.
                raise outcome.error
        elif self.confirmations is not None:
            self.confirmations.add(index, outcome.operation.id, outcome)
        else:
            self._final.add(index)
            self._deliver(outcome)

    def looked(self, decided: list[tuple[int, Outcome]], again: list[tuple[int, Outcome]]) -> list[int]:
        """Take what a look at the records settled; the indexes of the returns to send again (each until its
        outcome comes back through ``sent``)."""
        self._resending.update(index for index, _ in again)
        self._settled(decided)
        return [index for index, _ in again]

    def confirmed(self) -> None:
        """Take the confirmations that are final: to settle (an operation not seen to end), or delivered."""
        final = self.confirmations.finished() if self.confirmations is not None else []
        self.outcomes.update(final)  # all of them, before on_outcome may raise
        self._settled([(index, outcome) for index, outcome in final if not self.settlement.take(index, outcome)])

    def _known(self) -> None:
        """Take in what is known of the statuses and records awaited: for a stop's report. A refusal not yet
        told from "cancelled before", and a return being sent again (its first request may have started the
        cancellation, and its second may have too), are unknown."""
        if self.confirmations is not None:
            for index, outcome in self.confirmations.known():
                if index not in self._final:
                    self.outcomes[index] = outcome
        self.outcomes.update(self.settlement.unsettled())
        unsettled = Verdict(ReturnState.UNKNOWN, Source.REQUEST, "the batch stopped before its record settled it")
        for index, outcome in self.outcomes.items():
            if index not in self._final and outcome.state is ReturnState.NOT_CANCELLABLE:
                self.outcomes[index] = attrs.evolve(outcome, verdict=unsettled)
        resent = Verdict(ReturnState.UNKNOWN, Source.REQUEST, "the batch stopped while it was sent again")
        for index in self._resending:
            self.outcomes[index] = attrs.evolve(self.outcomes[index], verdict=resent)

    def report(self, error: BaseException, in_progress: Mapping[int, Attempts]) -> None:
        """Put on ``error``, the exception the batch stops with, what is known of every return: made at the
        stop, a request still in flight (``in_progress``, by index) counted as abandoned, and made again once
        those requests have ended."""
        self._known()
        report_stop(error, self.run.return_ids, self.outcomes, in_progress)

    def _settled(self, final: list[tuple[int, Outcome]]) -> None:
        """Outcomes final by their status or record: all noted and written before the first is delivered."""
        self.outcomes.update(final)
        self._final.update(index for index, _ in final)
        for _, outcome in final:
            self.run.learnt(outcome)
        for _, outcome in final:
            self._deliver(outcome)

    def _deliver(self, outcome: Outcome) -> None:
        if self._on_outcome is not None:
            self._on_outcome(outcome)
