"""Server-side validation of order requests (breeze.md 7.5); pure functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sim.breeze.market import TICK, Contract, ContractKey, Quote, contract_key
from sim.breeze.wire import JSON, NO_DATA, SimReject, parse_decimal, parse_expiry, text

PRODUCTS = {"options", "futures", "cash", "btst", "mtf"}
ACTIONS = {"buy", "sell"}
ORDER_TYPES = {"limit", "stoploss"}
VALIDITIES = {"day", "ioc"}
RIGHTS = {"call", "put", "others"}
MARKET_LIMIT_INDICATOR = "Invalid Market/Limit indicator:"
TICK_TOLERANCE = Decimal("0.000001")


@dataclass(frozen=True)
class OrderSpec:
    """A validated new order."""

    key: ContractKey
    contract: Contract
    exchange_code: str
    action: str
    order_type: str
    quantity: int
    price: Decimal
    stoploss: Decimal | None
    validity: str
    user_remark: str


def parse_quantity(value: object, lot_size: int, freeze: int) -> int:
    """Quantity in units: an integer (int or digit string), a positive multiple of the lot."""
    raw = str(value).strip() if value is not None else ""
    if raw == "":
        raise SimReject("Quantity cannot be empty")
    if isinstance(value, float) and not value.is_integer():
        raise SimReject("SIM: quantity must be an integer")
    try:
        quantity = int(float(raw)) if isinstance(value, float) else int(raw)
    except ValueError as exc:
        raise SimReject("SIM: quantity must be an integer") from exc
    if quantity <= 0 or quantity % lot_size:
        raise SimReject(f"SIM: quantity must be a positive multiple of the lot size {lot_size}")
    if quantity > freeze:
        raise SimReject(f"SIM: quantity above the freeze limit {freeze}")
    return quantity


def parse_price(value: object, what: str = "price") -> Decimal:
    """A positive price on the 0.05 tick; float noise up to 1e-6 is tolerated and rounded off."""
    number = parse_decimal(value)
    if number is None:
        raise SimReject(f"SIM: {what} must be numeric")
    if number <= 0:
        raise SimReject(f"SIM: {what} must be positive")
    ticks = (number / TICK).to_integral_value()
    if abs(number - ticks * TICK) > TICK_TOLERANCE:
        raise SimReject(f"SIM: {what} {value} is not a multiple of the tick {TICK}")
    return ticks * TICK


def _enum(body: JSON, key: str, allowed: set[str], empty: str, wrong: str) -> str:
    value = text(body, key).lower()
    if not value:
        raise SimReject(empty)
    if value not in allowed:
        raise SimReject(wrong)
    return value


def resolve_contract(
    body: JSON, product: str, find: Callable[[ContractKey], Contract | None]
) -> tuple[ContractKey, Contract]:
    """Find the contract named by a request; ``No Data Found`` when it is not listed."""
    expiry = parse_expiry(text(body, "expiry_date"))
    right = text(body, "right").lower() or ("others" if product == "futures" else "")
    strike = parse_decimal(text(body, "strike_price") or ("0" if product == "futures" else ""))
    if expiry is None or right not in RIGHTS or strike is None:
        raise SimReject(NO_DATA)
    key = contract_key(text(body, "stock_code"), product, expiry, right, strike)
    contract = find(key)
    if contract is None:
        raise SimReject(NO_DATA)
    return key, contract


def validate_place(
    body: JSON, find: Callable[[ContractKey], Contract | None], freeze: int
) -> OrderSpec:
    """Validate a ``POST order`` body."""
    if not text(body, "stock_code"):
        raise SimReject("Stock-Code cannot be empty")
    exchange = text(body, "exchange_code").upper()
    if not exchange:
        raise SimReject("Exchange-Code cannot be empty")
    if exchange != "NFO":
        raise SimReject("SIM: only exchange NFO is simulated")
    product = _enum(
        body,
        "product",
        PRODUCTS,
        "Product cannot be empty",
        "Product should be either 'futures', 'options', 'cash', 'btst' or 'mtf'",
    )
    if product not in {"options", "futures"}:
        raise SimReject("SIM: only options and futures are simulated")
    action = _enum(
        body,
        "action",
        ACTIONS,
        "Action cannot be empty",
        "Action should be either 'buy', or 'sell'",
    )
    order_type = text(body, "order_type").lower()
    if not order_type:
        raise SimReject("Order-type cannot be empty")
    if order_type == "market":
        raise SimReject("SIM: market orders are not accepted from the API")
    if order_type not in ORDER_TYPES:
        raise SimReject(MARKET_LIMIT_INDICATOR)
    validity = _enum(
        body,
        "validity",
        VALIDITIES,
        "Validity cannot be empty",
        "SIM: validity should be either 'day' or 'ioc'",
    )
    key, contract = resolve_contract(body, product, find)
    quantity = parse_quantity(body.get("quantity"), contract.lot_size, freeze)
    price = parse_price(body.get("price"))
    stoploss_raw = text(body, "stoploss")
    stoploss: Decimal | None = None
    if order_type == "stoploss":
        if not stoploss_raw:
            raise SimReject(MARKET_LIMIT_INDICATOR)
        stoploss = parse_price(stoploss_raw, "stoploss")
        if (action == "buy" and stoploss > price) or (action == "sell" and stoploss < price):
            raise SimReject("SIM: stop trigger on the wrong side of the limit price")
    elif stoploss_raw and parse_decimal(stoploss_raw) not in (None, Decimal(0)):
        raise SimReject(MARKET_LIMIT_INDICATOR)
    return OrderSpec(
        key=key,
        contract=contract,
        exchange_code=exchange,
        action=action,
        order_type=order_type,
        quantity=quantity,
        price=price,
        stoploss=stoploss,
        validity=validity,
        user_remark=text(body, "user_remark"),
    )


def check_band(price: Decimal, quote: Quote) -> None:
    """Reject limit prices outside the contract's circuit band."""
    if price < quote.lower or price > quote.upper:
        raise SimReject(f"SIM: price {price} outside the circuit band {quote.lower}-{quote.upper}")


def check_stop_trigger(action: str, stoploss: Decimal | None, quote: Quote) -> None:
    """A stop must trigger beyond the last price (buy above it, sell below it)."""
    if stoploss is None:
        return
    if (action == "buy" and stoploss <= quote.ltp) or (action == "sell" and stoploss >= quote.ltp):
        raise SimReject("SIM: stop trigger on the wrong side of the last price")


def marketable(action: str, price: Decimal, quote: Quote) -> bool:
    """Whether a limit crosses the quote (buy at or above the ask, sell at or below the bid)."""
    if action == "buy":
        return quote.ask_qty > 0 and price >= quote.ask
    return quote.bid_qty > 0 and price <= quote.bid


def triggered(action: str, stoploss: Decimal | None, quote: Quote) -> bool:
    """Whether a stop order's trigger has been reached by the last price."""
    if stoploss is None:
        return True
    return quote.ltp >= stoploss if action == "buy" else quote.ltp <= stoploss
