"""A fake Yandex Market for tests: a real HTTP server on 127.0.0.1 that serves the methods as openapi.yaml says.

    from yandex_market_returns.testing import FakeMarket

    with FakeMarket() as market:
        market.add_returns(21621656, 97211)
        ...  # point the code under test at market.base_url with market.api_key

Standard library only: it adds nothing to the package's runtime dependencies.
"""

from .exchanges import Exchange, StartedOperation
from .faults import Canned, Fault
from .market import FakeMarket

__all__ = ["Canned", "Exchange", "FakeMarket", "Fault", "StartedOperation"]
