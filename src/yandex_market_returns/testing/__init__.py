"""A fake Yandex Market for tests: a real HTTP server on 127.0.0.1 that serves the methods as openapi.yaml says.

    from yandex_market_returns.testing import FakeMarket

    with FakeMarket() as market:
        market.add_returns(21621656, 97211)
        ...  # point the code under test at market.base_url with market.api_key

Standard library only: it adds nothing to the package's runtime dependencies.
"""

from ._exchanges import Exchange, StartedOperation
from ._faults import Canned, Fault
from ._market import MSK, FakeMarket

__all__ = ["MSK", "Canned", "Exchange", "FakeMarket", "Fault", "StartedOperation"]

# Public classes name the module users import them from, in reprs, signatures and pickles (as httpx's do): a
# private module that moves breaks none of them.
for _public in __all__:
    if isinstance(globals().get(_public), type) and globals()[_public].__module__.startswith(f"{__name__}._"):
        globals()[_public].__module__ = __name__
del _public
