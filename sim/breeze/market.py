"""The contract universe, the security master and per-contract quotes."""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from sim.breeze.settings import SimSettings

TICK = Decimal("0.05")
INDEX_NAME = {"NIFTY": "NIFTY 50"}


@dataclass(frozen=True)
class Contract:
    """An F&O contract as Breeze names it (``stock_code`` is ICICI's short name)."""

    stock_code: str
    product: str  # options | futures
    expiry: date
    right: str  # call | put | others
    strike: Decimal
    token: str
    lot_size: int


ContractKey = tuple[str, str, date, str, Decimal]


def contract_key(
    stock_code: str, product: str, expiry: date, right: str, strike: Decimal
) -> ContractKey:
    """Normalised lookup key."""
    return (stock_code.upper(), product.lower(), expiry, right.lower(), strike.normalize())


@dataclass
class Quote:
    """Top of book and circuit limits of one contract (quantities in units)."""

    ltp: Decimal
    bid: Decimal
    ask: Decimal
    bid_qty: int
    ask_qty: int
    lower: Decimal
    upper: Decimal
    previous_close: Decimal
    volume: int = 0
    open_interest: int = 0


def to_tick(value: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round to the 0.05 tick."""
    return (value / TICK).quantize(Decimal(1), rounding=rounding) * TICK


def upcoming_tuesdays(today: date, count: int) -> list[date]:
    """Weekly NIFTY expiries (Tuesdays) from ``today`` on."""
    first = today + timedelta(days=(1 - today.weekday()) % 7)
    return [first + timedelta(weeks=n) for n in range(count)]


class Universe:
    """Tradable contracts and their quotes."""

    def __init__(self, settings: SimSettings, today: date) -> None:
        self.settings = settings
        if settings.expiries:
            self.expiries = sorted(date.fromisoformat(e) for e in settings.expiries)
        else:
            self.expiries = upcoming_tuesdays(today, settings.expiry_count)
        self.contracts: dict[ContractKey, Contract] = {}
        self.quotes: dict[ContractKey, Quote] = {}
        self._build()

    def _build(self) -> None:
        s = self.settings
        centre = int(s.spot / s.strike_step) * s.strike_step
        token = 35000
        for expiry in self.expiries:
            for n in range(-s.strikes_each_side, s.strikes_each_side + 1):
                strike = Decimal(centre + n * s.strike_step)
                for right in ("call", "put"):
                    token += 1
                    self._add(
                        Contract("NIFTY", "options", expiry, right, strike, str(token), s.lot_size)
                    )
        token += 1
        self._add(
            Contract(
                "NIFTY", "futures", self.expiries[-1], "others", Decimal(0), str(token), s.lot_size
            )
        )

    def _add(self, contract: Contract) -> None:
        key = contract_key(
            contract.stock_code, contract.product, contract.expiry, contract.right, contract.strike
        )
        self.contracts[key] = contract

    def find(self, key: ContractKey) -> Contract | None:
        """The contract for a key, if listed."""
        return self.contracts.get(key)

    def quote(self, key: ContractKey, today: date) -> Quote:
        """Current quote, created from the default pricing model on first use."""
        if key not in self.quotes:
            self.quotes[key] = self.default_quote(self.contracts[key], today)
        return self.quotes[key]

    def default_quote(self, contract: Contract, today: date) -> Quote:
        """A plausible quote: intrinsic value plus a time value that decays away from the money."""
        s = self.settings
        if contract.product == "futures":
            ltp = to_tick(s.spot)
            lower, upper = to_tick(ltp * Decimal("0.9")), to_tick(ltp * Decimal("1.1"))
        else:
            distance = float(abs(contract.strike - s.spot))
            days = max((contract.expiry - today).days, 0)
            time_value = 180.0 * math.exp(-distance / 350.0) * math.sqrt(days / 7 + 0.1)
            if contract.right == "call":
                intrinsic = max(s.spot - contract.strike, Decimal(0))
            else:
                intrinsic = max(contract.strike - s.spot, Decimal(0))
            ltp = max(to_tick(intrinsic + Decimal(str(round(time_value, 2)))), Decimal("1.00"))
            lower, upper = TICK, to_tick(max(ltp * 4, ltp + 100))
        half = to_tick(s.spread / 2, ROUND_DOWN) or TICK
        bid = max(ltp - half, TICK)
        return Quote(
            ltp=ltp,
            bid=bid,
            ask=bid + max(s.spread, TICK),
            bid_qty=s.depth_quantity,
            ask_qty=s.depth_quantity,
            lower=lower,
            upper=upper,
            previous_close=ltp,
        )

    def security_master_zip(self) -> bytes:
        """A small ``SecurityMaster.zip`` in the layout the SDK parses (breeze.md 3.10)."""
        fo_header = [
            "Token",
            "InstrumentName",
            "ShortName",
            "Series",
            "ExpiryDate",
            "StrikePrice",
            "OptionType",
            "ExchangeCode",
            "LotSize",
            "TickSize",
            *[f"Reserved{n}" for n in range(10, 29)],
            "CompanyName",
        ]
        lines = [",".join(f'"{h}"' for h in fo_header)]
        for c in self.contracts.values():
            series = "FUTIDX" if c.product == "futures" else "OPTIDX"
            option = {"call": "CE", "put": "PE"}.get(c.right, "XX")
            strike = f"{c.strike:.0f}" if c.product == "options" else "0"
            row = [
                c.token,
                series,
                c.stock_code,
                series,
                c.expiry.strftime("%d-%b-%Y"),
                strike,
                option,
                f"{c.stock_code}{c.expiry:%y%b}".upper(),
                str(c.lot_size),
                "5",
                *[""] * 19,
                INDEX_NAME.get(c.stock_code, c.stock_code),
            ]
            lines.append(",".join(f'"{v}"' for v in row))
        nse = 'Token, "ShortName", "Series", "CompanyName", "ExchangeCode"\n'
        nse += '"26000","NIFTY","EQ","NIFTY 50","NIFTY"\n'
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("FONSEScripMaster.txt", "\n".join(lines) + "\n")
            archive.writestr("NSEScripMaster.txt", nse)
            for name in (
                "BSEScripMaster.txt",
                "FOBSEScripMaster.txt",
                "CDNSEScripMaster.txt",
                "MCXScripMaster.txt",
            ):
                archive.writestr(name, "")
        return buffer.getvalue()


def session_bounds(day: date) -> tuple[datetime, datetime]:
    """NSE's continuous session on ``day`` as naive IST times."""
    open_ = datetime(day.year, day.month, day.day, 9, 15)  # noqa: DTZ001 - naive IST on purpose
    return open_, open_.replace(hour=15, minute=30)
