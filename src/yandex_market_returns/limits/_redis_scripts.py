"""The Lua scripts ``RedisLimits`` runs, and the arguments and answers that pass between them and Python.

Keys of a store (``<prefix>{campaign:<id>}:...``, one hash tag): ``slots``, a sorted set of the requests in
flight (and of slots kept for a grace period) by the moment each lease ends; ``queue``, the waiters in
order (retries first, then by arrival); ``alive``, when each waiter stops counting unless it asks again;
``hold``, the hourly gate. Every moment is Redis's clock, in milliseconds.
"""

import json
import time
from datetime import UTC, datetime

from .._constants import CLAIM_MS, KEEP_MS, LONGEST_HOLD
from .._rate_limit import RateLimit

# In a process's list of its leases: one taken from its own limits while Redis was away.
LOCAL = ""

_NOW = (
    "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "
    + f"local CLAIM = {CLAIM_MS} local KEEP = {KEEP_MS} "
)
# Every key of a store expires KEEP after the last moment in it: the slots' leases and grace periods, the
# waiters' places; the epoch with the later of the two. keep(slots, epoch[, alive, queue]).
_KEEP = """
local function ends(key)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2]
  if not last then return 0 end
  return math.max(tonumber(last) - now, 1)
end
local function keep(slots, epoch, alive, queue)
  local leased = ends(slots)
  if leased > 0 then redis.call('PEXPIRE', slots, leased + KEEP) end
  local waiting = 0
  if alive then
    waiting = ends(alive)
    if waiting > 0 then
      redis.call('PEXPIRE', alive, waiting + KEEP)
      redis.call('PEXPIRE', queue, waiting + KEEP)
    end
  end
  redis.call('PEXPIRE', epoch, math.max(leased, waiting) + KEEP)
end
"""
# The hourly gate as a waiter is told it with its slot: '' or ' <ms left> <rate limit JSON>'.
_HOLD = """
local function hold()
  local resume = tonumber(redis.call('HGET', KEYS[4], 'resume') or '0')
  if resume <= now then return '' end
  return ' ' .. string.format('%d', resume - now) .. ' ' .. redis.call('HGET', KEYS[4], 'rate_limit')
end
"""
# Every slot script: KEYS slots, queue, alive, hold, epoch; ARGV[1] id ('<owner>.<waiter>'), ARGV[2] lease
# ms, ARGV[3] limit, ARGV[4] the prefix of the owners' channels. Leases and waiters that ended are dropped,
# then free slots are handed to the waiters at the head of the queue (leased for CLAIM_MS, until their
# process renews them), each told by a message on its owner's channel (one process or event loop, not
# all): its id and the hourly gate.
_HAND_OVER = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)) do
  redis.call('ZREM', KEYS[2], gone)
  redis.call('ZREM', KEYS[3], gone)
end
local free = tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1])
local told = nil
local handed = {}
while free > 0 do
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not head then break end
  redis.call('ZREM', KEYS[2], head)
  redis.call('ZREM', KEYS[3], head)
  redis.call('ZADD', KEYS[1], now + math.min(tonumber(ARGV[2]), CLAIM), head)
  told = told or hold()
  local owner = string.match(head, '^[^.]*')
  redis.call('PUBLISH', ARGV[4] .. owner, head .. told)
  handed[#handed + 1] = head
  free = free - 1
end
"""
# ARGV[5] '1' for a retry (it goes first), ARGV[6] ms it stays queued unless it asks again, ARGV[7] the
# epoch to set if the store has none (Redis lost its keys: see RENEW). Places are by Redis's clock.
# {-1, gate}: the slot is the caller's for CLAIM, until it leases it (CONFIRM): a reply lost holds it no
# longer. {ms}: until the first lease or grace period ends (0: none runs).
TAKE = (
    _NOW
    + _HOLD
    + _KEEP
    + """
if redis.call('EXISTS', KEYS[5]) == 0 then redis.call('SET', KEYS[5], ARGV[7]) end
local queued = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not queued then redis.call('ZADD', KEYS[2], (ARGV[5] == '1' and 0 or 1e13) + now, ARGV[1]) end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[6]), ARGV[1])
"""
    + _HAND_OVER
    + """
keep(KEYS[1], KEYS[5], KEYS[3], KEYS[2])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {-1, hold()} end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then return {math.max(tonumber(first[2]) - now, 1)} end
return {0}
"""
)
# KEYS: slots, epoch. ARGV: id, lease ms. A slot taken (or handed over) is the caller's for CLAIM only, until
# the caller, having read that answer, leases it: from then on for the whole lease, renewed every second.
# The store's epoch when it did ('-' for none), so that the caller notices keys lost before its first
# renewal (see RENEW); 0 when the claim had ended (the slot may be another's now).
CONFIRM = (
    _NOW
    + _KEEP
    + """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
keep(KEYS[1], KEYS[2])
return redis.call('GET', KEYS[2]) or '-'
"""
)
# ARGV[5] grace ms: a slot released with a grace period stays taken until it ends, under another name, so
# that a renewal under way (RENEW) cannot make it a lease again. Also how a waiter that gives up leaves the
# queue (grace 0), handing on a slot given to it meanwhile, and how a take whose reply was lost is undone.
# {gate, ids handed a slot...}: the releaser wakes its own waiters among them without waiting for the message.
RELEASE = (
    _NOW
    + _HOLD
    + _KEEP
    + """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 and tonumber(ARGV[5]) > 0 then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[5]), 'grace:' .. ARGV[1])
end
"""
    + _HAND_OVER
    + """
keep(KEYS[1], KEYS[5], KEYS[3], KEYS[2])
table.insert(handed, 1, told or '')
return handed
"""
)
# KEYS: slots, epoch. ARGV: lease ms, the epoch the caller knows ('' for none yet), a new epoch, the number
# of leases, their ids, then (id, ms left) of each slot the caller keeps for a grace period.
# The epoch is a token the store's keys carry: one that is gone or another than the caller knows means
# Redis lost the keys (restarted empty, flushed) and the leases of the requests still running are added
# back, since those requests count all the same (one released meanwhile may come back with them: the caller
# releases it again), and so are the grace periods, for what is left of them. Otherwise only leases still
# held are renewed: one that ended (its process frozen past it) may have been taken meanwhile; and a grace
# period whose release has not come (Redis away then) is kept as RELEASE keeps it, in place of its lease.
# Answers the epoch, and 1 when the leases were put back (0 otherwise).
RENEW = (
    _NOW
    + _KEEP
    + """
local epoch = redis.call('GET', KEYS[2])
local lost = not epoch or (ARGV[2] ~= '' and epoch ~= ARGV[2])
if not epoch then
  epoch = ARGV[3]
  redis.call('SET', KEYS[2], epoch)
end
local leases = 4 + tonumber(ARGV[4])
for i = 5, leases do
  if lost then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i])
  else
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
  end
end
for i = leases + 1, #ARGV, 2 do
  local leased = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[i]) or '0')
  if lost or leased > now then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[i + 1]), 'grace:' .. ARGV[i])
  end
end
keep(KEYS[1], KEYS[2])
return {epoch, lost and 1 or 0}
"""
)
# KEYS: hold. ARGV: exhausted (0/1), wait ms, ms since the request was sent, remaining > 0 (0/1),
# until (epoch ms, or ''), the rate limit as JSON. Mirrors HourlyGate.observe.
OBSERVE = (
    _NOW
    + """
local resume = tonumber(redis.call('HGET', KEYS[1], 'resume') or '0')
if ARGV[1] == '1' then
  local wait = tonumber(ARGV[2])
  if wait > 0 and now + wait > resume then
    redis.call('HSET', KEYS[1], 'resume', now + wait, 'learned', now, 'until', ARGV[5], 'rate_limit', ARGV[6])
    redis.call('PEXPIRE', KEYS[1], wait)
  end
elseif ARGV[4] == '1' and resume > 0 then
  local held_until = tonumber(redis.call('HGET', KEYS[1], 'until') or '')
  local later = ARGV[5] ~= '' and held_until ~= nil and tonumber(ARGV[5]) > held_until
  if later or now - tonumber(ARGV[3]) > tonumber(redis.call('HGET', KEYS[1], 'learned')) then
    redis.call('DEL', KEYS[1])
  end
end
"""
)

Hold = tuple[float, RateLimit]  # seconds left (from when Redis said so), and the answer that spent the hour


def text(value: bytes | str) -> str:
    """What Redis answered, from a client with or without ``decode_responses``."""
    return value.decode() if isinstance(value, bytes) else value


def granted(told: bytes | str) -> Hold | None:
    """The hourly gate as a slot came with it: ``''`` or ``' <ms> <JSON>'`` (see ``_HOLD``)."""
    found = text(told).strip()
    if not found:
        return None
    ms_left, payload = found.split(" ", 1)
    fields = json.loads(payload)
    until, date = (None if fields[name] is None else datetime.fromisoformat(fields[name]) for name in ("until", "date"))
    return int(ms_left) / 1000, RateLimit(limit=fields["limit"], remaining=fields["remaining"], until=until, date=date)


def observed(rate_limit: RateLimit, sent_at: float) -> list[str | int] | None:
    """The arguments of ``OBSERVE`` for an answer to a request sent at ``sent_at``; ``None``: nothing to note
    (a period said to end too far ahead, as ``HourlyGate`` has it)."""
    wait = (rate_limit.resets_in(datetime.now(UTC)) or 0.0) if rate_limit.exhausted else 0.0
    if rate_limit.exhausted and not 0 < wait <= LONGEST_HOLD:
        return None
    until = "" if rate_limit.until is None else str(int(rate_limit.until.timestamp() * 1000))
    return [
        int(rate_limit.exhausted),
        int(wait * 1000),
        int((time.monotonic() - sent_at) * 1000),
        int(bool(rate_limit.remaining)),
        until,
        json.dumps(
            {
                "limit": rate_limit.limit,
                "remaining": rate_limit.remaining,
                "until": _moment(rate_limit.until),
                "date": _moment(rate_limit.date),
            }
        ),
    ]


def _moment(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
