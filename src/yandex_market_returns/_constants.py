"""Every default and limit, once, named: the Market's own (none of them is in openapi.yaml), a client's and
the command's defaults, the bounds an option is checked against, and the shared limits' timings in Redis.

What the spec says (the largest page, ids a request, lengths) is read from it where it is used
(``_validation.py``), not written here.
"""

# The Market's limits.

# Simultaneous requests per store (campaignId) on /campaigns/{campaignId}/..., and per business on
# /businesses/{businessId}/...: a fifth is answered 420.
PARALLEL_REQUESTS = 4
# Requests an hour: cancelReturn's per store, getOperations' per business, getReturn's and getReturns' per
# store (each method's own).
CANCELS_PER_HOUR = 5_000
OPERATIONS_PER_HOUR = 1_000
RETURN_READS_PER_HOUR = 7_000
RETURNS_READS_PER_HOUR = 5_000
# The period the methods' limits are counted over, in seconds.
LIMIT_PERIOD = 3600.0
# A period said to end later than twice that is not believed (a garbled or hostile Until would otherwise hold
# the store for the client's lifetime, nothing ever sent).
LONGEST_HOLD = 2 * LIMIT_PERIOD

# A client's defaults (ReturnsClient, AsyncReturnsClient), and the command's.

TIMEOUT = 30.0  # seconds for each request
MAX_RETRIES = 3  # tries after the first
RETRY_BUDGET = 60.0  # seconds a call may spend retrying, from its first request
BACKOFF = 0.5  # seconds before the first retry, doubling
CONFIRM_TIMEOUT = 600.0  # seconds to wait for the cancellations' operations to end
POLL_INTERVAL = 1.0  # seconds between getOperations rounds at first, doubling

# Bounds.

MOST_RETRIES = 100  # max_retries at most
# The longest timeout, budget or wait an option may ask for: a day. Beyond it a value is a mistake.
MAX_SECONDS = 86_400.0
# getReturns asks for the largest pages the spec allows, and follows at most this many: tokens that never end
# (a Market that hands out the same one again, or new ones forever) end the call with an error instead.
MAX_PAGES = 1_000
MAX_BACKOFF = 30.0  # seconds: a retry's wait at most
# The longest wait before asking shared limits again that could not be reached: a failover ends in seconds.
MAX_OUTAGE_BACKOFF = 1.0
# The poll interval doubles after each round up to this: an operation takes minutes, not hours.
MAX_POLL_INTERVAL = 60.0
# Closing a client waits for its batches' requests in flight this much longer than a request's timeout.
CLOSE_GRACE = 1.0
# The command asks an operator on a terminal before it cancels more returns than this (unless --yes).
CONFIRM_ABOVE = 20
# The most the command reads of one line, and of one file, in bytes: a line of ids, or a spreadsheet's row,
# is far shorter, and 100,000 ids take about 2 MB.
LINE_BOUND = 4 * 1024
FILE_BOUND = 32 * 1024 * 1024

# The limits shared by the processes of a host (FileLimits): how often a waiter looks for a slot file another
# process let go of, in seconds.
FILE_LOOK_EVERY = 0.01

# The shared limits in Redis (RedisLimits).

# The prefix of every key RedisLimits keeps, unless given another: the command line's default too.
DEFAULT_PREFIX = "yandex-market-returns:"
LEASE = 30.0  # seconds a slot stays taken by a worker that stops answering, unless renewed
LONGEST_LEASE = 3600.0  # the lease a RedisLimits may be given at most, in seconds
# Seconds: a Redis that stops answering fails an attempt, it does not hang it (unless its URL says otherwise).
REDIS_TIMEOUT = 5.0
# How long a waiter stays queued without asking again: one that died leaves the queue within it.
QUEUED_MS = 10_000
# How long a slot handed to a waiter stays its own until its process renews it: a waiter that died with
# its place in the queue holds a slot no longer than this. Renewals come at least 3 times as often.
CLAIM_MS = 3_000
# How many times a claim (or a waiter's time in the queue) is renewed, or asked again, before it would end.
RENEWALS_PER_CLAIM = 3
# How long a store's keys outlive the last lease, grace period or waiter in them: a store no longer used
# leaves nothing in Redis.
KEEP_MS = 60_000
# Milliseconds a request waits, at most, for its lease to reach a replica of the master (WAIT): a replica that
# lags costs each request no more.
WAIT_MS = 250
# Seconds before Redis is asked again after it could not be (a renewal, a give-back), or after the renewal
# could not tell which Redis process answers.
REDIS_AGAIN = 0.2
# Seconds a process's first take waits for its listener of hand-overs to subscribe; how often that listener
# looks whether the limits are closing; and how long it waits before subscribing again once Redis failed it.
LISTENER_START = 1.0
LISTENER_LOOK = 1.0
LISTENER_AGAIN = 0.5
