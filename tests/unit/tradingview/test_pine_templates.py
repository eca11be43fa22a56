"""The Pine indicator's alert JSON validates against ingest's webhook schema.

`docs/tradingview/strikeflow_s1_s8.pine` builds every webhook body in one helper, `alertJson`,
from a few small helpers, all kept between the ``alert-json-begin`` / ``alert-json-end`` markers.
This test reads those functions and the file's ``const`` declarations, evaluates them with a
tiny interpreter for the subset of Pine expressions they use (literals, names, arithmetic,
comparisons, ``and``/``or``/``not``, ``?:``, calls), and feeds the resulting JSON for every
signal and both actions to ``services.ingest.webhook.parse_payload`` and ``to_signal``. Any
drift of the Pine template from what ingest accepts fails here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from libs.common.clock import IST, FixedClock
from libs.common.messages import OptionRight, SignalAction, SignalName
from libs.strategy.trade import round100
from services.ingest.api import secret_matches
from services.ingest.settings import IngestSettings
from services.ingest.webhook import AlertError, AlertPayload, parse_payload, to_signal

PINE = Path(__file__).resolve().parents[3] / "docs" / "tradingview" / "strikeflow_s1_s8.pine"
PLACEHOLDER = "CHANGE_ME_WEBHOOK_SECRET"
LOCAL_SECRET = "local-dev-webhook-secret"
# Spec §3.1: bullish signals sell a PE, bearish ones a CE.
SPEC_TYPES = {
    "S1": "PE",
    "S2": "PE",
    "S3": "CE",
    "S4": "PE",
    "S5": "CE",
    "S6": "CE",
    "S7": "PE",
    "S8": "CE",
}
# The body ingest's indicator style expects, in the order the Pine helper writes it.
EXPECTED_KEYS = ["v", "secret", "signal", "action", "symbol", "type", "strike", "sl", "bar_time"]
BAR = datetime(2025, 9, 15, 4, 45, tzinfo=UTC)  # Monday 10:15 IST bar (its start)
BAR_MS = int(BAR.timestamp() * 1000)
CLOCK = FixedClock(datetime(2025, 9, 15, 5, 46, tzinfo=UTC))  # 11:16 IST, just after its close


# ---------------------------------------------------------------------------------------------
# A tiny evaluator for the Pine expressions of the alert-json block
# ---------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
      | (?P<num>\d+\.\d*|\d+)
      | (?P<name>[A-Za-z_][A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)*)
      | (?P<op>==|!=|<=|>=|=>|[-+*/%<>?:(),])
    )""",
    re.VERBOSE,
)
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t"}
_NA = None


def _unquote(literal: str) -> str:
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\":
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise SyntaxError(f"cannot read Pine expression at {text[pos:]!r}")
        pos = m.end()
        if m["str"] is not None:
            tokens.append(("lit", _unquote(m["str"])))
        elif m["num"] is not None:
            num = m["num"]
            tokens.append(("lit", float(num) if "." in num else int(num)))
        elif m["name"] is not None:
            tokens.append(("name", m["name"]))
        else:
            tokens.append(("op", m["op"]))
    return tokens


Node = tuple[Any, ...]


class _Parser:
    """Recursive descent with Pine's precedence: ?: < or < and < not < ==,!= < <,> < +,- < *,/,%."""

    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str, value: Any = None) -> bool:
        tok = self.peek()
        if tok is not None and tok[0] == kind and (value is None or tok[1] == value):
            self.i += 1
            return True
        return False

    def expect(self, value: str) -> None:
        if not self.take("op", value):
            raise SyntaxError(f"expected {value!r} at token {self.i}: {self.peek()!r}")

    def parse(self) -> Node:
        node = self.ternary()
        if self.peek() is not None:
            raise SyntaxError(f"trailing tokens: {self.tokens[self.i :]!r}")
        return node

    def ternary(self) -> Node:
        cond = self.binary(0)
        if self.take("op", "?"):
            yes = self.ternary()
            self.expect(":")
            return ("if", cond, yes, self.ternary())
        return cond

    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("or",),
        ("and",),
        ("==", "!="),
        ("<", ">", "<=", ">="),
        ("+", "-"),
        ("*", "/", "%"),
    )

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        if level == 2 and self.take("name", "not"):
            return ("not", self.binary(level))
        node = self.binary(level + 1)
        while True:
            tok = self.peek()
            if tok is None or tok[1] not in self._LEVELS[level] or tok[0] == "lit":
                return node
            self.i += 1
            node = ("bin", tok[1], node, self.binary(level + 1))

    def unary(self) -> Node:
        if self.take("op", "-"):
            return ("neg", self.unary())
        return self.primary()

    def primary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise SyntaxError("unexpected end of expression")
        self.i += 1
        if tok[0] == "lit":
            return ("lit", tok[1])
        if tok == ("op", "("):
            node = self.ternary()
            self.expect(")")
            return node
        if tok[0] != "name":
            raise SyntaxError(f"unexpected token {tok!r}")
        if not self.take("op", "("):
            return ("name", tok[1])
        args: list[Node] = []
        if not self.take("op", ")"):
            args.append(self.ternary())
            while self.take("op", ","):
                args.append(self.ternary())
            self.expect(")")
        return ("call", tok[1], args)


def _tostring(value: Any, fmt: str | None = None) -> str:
    """Pine's str.tostring for the cases the helpers use."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if fmt is None:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if fmt != "#.##":
        raise NotImplementedError(f"format {fmt!r}")
    text = str(Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))
    return text.rstrip("0").rstrip(".") if "." in text else text


def _div(a: Any, b: Any) -> Any:
    # Pine v6: dividing ints gives the exact (possibly fractional) quotient.
    q = a / b
    return int(q) if isinstance(a, int) and isinstance(b, int) and q.is_integer() else q


def _floor(x: Any) -> int:
    return int(Decimal(repr(x)).to_integral_value(rounding="ROUND_FLOOR"))


BUILTINS: dict[str, Callable[..., Any]] = {
    "str.tostring": _tostring,
    "str.length": len,
    "str.replace_all": lambda s, a, b: s.replace(a, b),
    "math.floor": _floor,
    "math.abs": abs,
    "math.max": max,
    "math.min": min,
}
_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _div,
    "%": lambda a, b: a % b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


@dataclass
class Function:
    name: str
    params: list[str]
    locals: list[tuple[str, Node]]
    result: Node


class PineSubset:
    """The constants and alert-json functions of a Pine file, evaluated in Python."""

    def __init__(self, source: str) -> None:
        self.consts: dict[str, Any] = {}
        self.functions: dict[str, Function] = {}
        for line in code_only(source).splitlines():
            m = re.fullmatch(r"const\s+(?:string|int|float|bool)\s+(\w+)\s*=\s*(.+?)\s*", line)
            if m is not None:
                self.consts[m[1]] = self.eval(_Parser(tokenize(m[2])).parse(), {})
        self._read_functions(alert_block(source))

    def _read_functions(self, block: str) -> None:
        lines = [ln for ln in code_only(block).splitlines() if ln.strip()]
        i = 0
        while i < len(lines):
            header = re.fullmatch(r"(\w+)\(([^)]*)\)\s*=>\s*(.*)", lines[i])
            if header is None:
                raise SyntaxError(f"only functions belong in the alert-json block: {lines[i]!r}")
            params = [p.split()[-1] for p in header[2].split(",") if p.strip()]
            body = [header[3]] if header[3] else []
            i += 1
            while i < len(lines) and lines[i].startswith("    "):
                body.append(lines[i].strip())
                i += 1
            local_defs = []
            for line in body[:-1]:
                m = re.fullmatch(r"(?:(?:string|int|float|bool)\s+)?(\w+)\s*=\s*(?!=)(.+)", line)
                if m is None:
                    raise SyntaxError(f"unsupported statement in {header[1]}: {line!r}")
                local_defs.append((m[1], _Parser(tokenize(m[2])).parse()))
            result = _Parser(tokenize(body[-1])).parse()
            self.functions[header[1]] = Function(header[1], params, local_defs, result)

    def call(self, name: str, *args: Any) -> Any:
        fn = self.functions[name]
        if len(args) != len(fn.params):
            raise TypeError(f"{name} takes {fn.params}, got {len(args)} arguments")
        env = dict(zip(fn.params, args, strict=True))
        for local, node in fn.locals:
            env[local] = self.eval(node, env)
        return self.eval(fn.result, env)

    def eval(self, node: Node, env: dict[str, Any]) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "name":
            return self._name(node[1], env)
        if kind == "if":
            return self.eval(node[2] if self.eval(node[1], env) else node[3], env)
        if kind == "not":
            return not self.eval(node[1], env)
        if kind == "neg":
            return -self.eval(node[1], env)
        if kind == "bin":
            return self._binary(node, env)
        args = [self.eval(a, env) for a in node[2]]
        if node[1] in self.functions:
            return self.call(node[1], *args)
        return BUILTINS[node[1]](*args)

    def _name(self, name: str, env: dict[str, Any]) -> Any:
        if name in env:
            return env[name]
        if name in self.consts:
            return self.consts[name]
        literals = {"true": True, "false": False, "na": _NA}
        if name in literals:
            return literals[name]
        raise NameError(f"{name} is not a parameter, local or const of the alert-json block")

    def _binary(self, node: Node, env: dict[str, Any]) -> Any:
        op = node[1]
        if op == "and":
            return bool(self.eval(node[2], env)) and bool(self.eval(node[3], env))
        if op == "or":
            return bool(self.eval(node[2], env)) or bool(self.eval(node[3], env))
        return _BINOPS[op](self.eval(node[2], env), self.eval(node[3], env))


def alert_block(source: str) -> str:
    m = re.search(r"alert-json-begin[^\n]*\n(.*)\n[^\n]*alert-json-end", source, re.DOTALL)
    assert m is not None, "the Pine file must keep its alert-json-begin / -end markers"
    return m[1]


def strip_comment(line: str) -> str:
    """One Pine line without its ``//`` comment (a ``//`` inside a string literal is kept)."""
    quote: str | None = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote is not None:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif line.startswith("//", i):
            return line[:i].rstrip()
        i += 1
    return line.rstrip()


def code_only(source: str) -> str:
    """The Pine source without ``//`` comments."""
    return "\n".join(strip_comment(line) for line in source.splitlines())


# ---------------------------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def source() -> str:
    return PINE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pine(source: str) -> PineSubset:
    return PineSubset(source)


def body_for(pine: PineSubset, secret: str, sig: int, action: str, sl: str) -> dict[str, Any]:
    sl_paise = int(Decimal(sl) * 100)
    text = pine.call("alertJson", secret, sig, action, sl_paise, BAR_MS)
    assert isinstance(text, str)
    body = json.loads(text)
    assert isinstance(body, dict)
    return body


SAMPLE_SLS = ["25080.55", "24850", "24640", "25000.5", "24849.95", "25200", "9999.99"]


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


def test_file_is_a_pine_v6_overlay_indicator(source: str) -> None:
    assert source.splitlines()[0].strip() == "//@version=6"
    code = code_only(source)
    assert re.search(r"^indicator\(.*overlay\s*=\s*true", code, re.MULTILINE)
    assert 'timeframe.period != "60"' in code, "the script must insist on the 1-hour chart"


@pytest.mark.parametrize("n", range(1, 9))
def test_every_signal_has_condition_code_in_priority_order(source: str, n: int) -> None:
    code = code_only(source)
    # Its condition function is defined, and the S1..S8 priority switch dispatches to it.
    assert re.search(rf"^slS{n}\((?:bool (?:up|dn))?\) =>\n(?:    .+\n)+", code, re.MULTILINE)
    assert re.search(rf"^\s+{n} => slS{n}\(", code, re.MULTILINE)
    assert re.search(rf"^\s+{n} => enS{n}$", code, re.MULTILINE)
    assert re.search(rf"^bool enS{n} = input\.bool\(true, \"S{n} ", code, re.MULTILINE)
    assert f"// S{n} " in source, f"S{n} needs its spec comment"
    switch = re.search(r"^slOf\(.*?\) =>\n((?:    .+\n)+)", code, re.MULTILINE)
    assert switch is not None
    order = [int(m) for m in re.findall(r"^\s+(\d) => slS\d", switch[1], re.MULTILINE)]
    assert order == list(range(1, 9))


def test_priority_loop_and_latch_are_present(source: str) -> None:
    code = code_only(source)
    assert "for sig = 1 to 8" in code
    assert "latched := true" in code
    assert re.search(r"s7ProximityPct\s*=\s*input\.float\(0\.40,", code)


@pytest.mark.parametrize("signal", sorted(SPEC_TYPES))
@pytest.mark.parametrize("action_const", ["ACTION_ENTRY", "ACTION_STOPLOSS"])
@pytest.mark.parametrize("sl", SAMPLE_SLS)
def test_alert_json_is_accepted_by_ingest(
    pine: PineSubset, signal: str, action_const: str, sl: str
) -> None:
    action = pine.consts[action_const]
    body = body_for(pine, LOCAL_SECRET, int(signal[1]), action, sl)

    assert list(body) == EXPECTED_KEYS
    assert set(body) <= set(AlertPayload.model_fields), "a key ingest would silently ignore"
    assert body["v"] == 1
    assert body["signal"] == signal
    assert body["type"] == SPEC_TYPES[signal]
    assert isinstance(body["strike"], int)
    assert body["strike"] == round100(Decimal(sl))
    assert Decimal(str(body["sl"])) == Decimal(sl)
    assert body["bar_time"] == BAR_MS

    try:
        message = to_signal(parse_payload(body), CLOCK.now(), "52.89.214.238")
    except AlertError as exc:  # pragma: no cover - the assertion below reports it
        pytest.fail(f"ingest rejects the Pine alert {body}: {exc}")
    expected_action = SignalAction.ENTRY if action == "Entry" else SignalAction.EXIT
    assert message.signal is SignalName(signal)
    assert message.action is expected_action
    assert message.option_type is OptionRight(SPEC_TYPES[signal])
    assert (message.option_type is OptionRight.PE) is SignalName(signal).bullish
    assert message.strike == Decimal(round100(Decimal(sl)))
    assert message.stop_level == Decimal(sl)
    assert message.bar_time == BAR
    assert message.symbol == "NIFTY"
    assert message.payload_style == "indicator"
    assert message.trading_week == "{}-W{:02d}".format(*BAR.astimezone(IST).isocalendar()[:2])
    assert message.dedup_key.endswith(f"|bar={BAR.isoformat()}")


def test_helpers_match_the_spec(pine: PineSubset) -> None:
    for n in range(1, 9):
        assert pine.call("optionTypeOf", n) == SPEC_TYPES[f"S{n}"]
        assert pine.call("sigName", n) == f"S{n}"
    # round100, ties up (spec §4.2): 24,850 -> 24,900, not ties-to-even 24,800.
    assert pine.call("round100", 2485000) == 24900
    assert pine.call("round100", 2484995) == 24800
    assert pine.call("priceText", 2508055) == "25080.55"
    assert pine.call("priceText", 2508050) == "25080.5"
    assert pine.call("priceText", 2508000) == "25080"


def test_secret_is_json_escaped(pine: PineSubset) -> None:
    tricky = 'a"b\\c-long-enough'
    body = body_for(pine, tricky, 3, "Entry", "25080.55")
    assert body["secret"] == tricky


def test_alert_calls_use_the_helper_once_per_bar_close(source: str) -> None:
    code = code_only(source)
    calls = re.findall(r"^(.*)\n(\s*)alert\((.*)\)\s*$", code, re.MULTILINE)
    assert len(calls) == 1, "one alert() call site, fed by alertJson"
    guard, _, args = calls[0]
    assert guard.strip().startswith("if barstate.isconfirmed")
    assert args == "alertMsg, alert.freq_once_per_bar_close"
    assignments = re.findall(r"alertMsg\s*:=\s*(.+)", code)
    assert len(assignments) == 2
    actions = set()
    for rhs in assignments:
        m = re.fullmatch(r"alertJson\(secretInput, (\w+), (ACTION_\w+), (\w+), time\)\s*", rhs)
        assert m is not None, f"alertMsg must come from alertJson(secretInput, …, time): {rhs}"
        actions.add(m[2])
    assert actions == {"ACTION_ENTRY", "ACTION_STOPLOSS"}


def test_placeholder_secret_is_the_default_and_is_flagged(source: str, pine: PineSubset) -> None:
    assert pine.consts["SECRET_PLACEHOLDER"] == PLACEHOLDER
    assert re.search(
        r"^string secretInput = input\.string\(SECRET_PLACEHOLDER,", code_only(source), re.MULTILINE
    )
    # An unedited alert carries the placeholder, which no configured secret matches.
    body = body_for(pine, PLACEHOLDER, 1, "Entry", "24640")
    assert body["secret"] == PLACEHOLDER
    assert not secret_matches(body["secret"], LOCAL_SECRET)
    # The chart flags the placeholder and secrets ingest would refuse as too short.
    assert PLACEHOLDER in pine.call("secretProblem", PLACEHOLDER)
    assert "shorter than 12" in pine.call("secretProblem", "short")
    assert "shorter than 12" in pine.call("secretProblem", "")
    assert pine.call("secretProblem", LOCAL_SECRET) == ""
    assert "secretProblem(secretInput)" in code_only(source)


def test_secret_length_rule_matches_ingest(pine: PineSubset) -> None:
    minimum = pine.consts["SECRET_MIN_LENGTH"]
    assert pine.call("secretProblem", "x" * minimum) == ""
    assert pine.call("secretProblem", "x" * (minimum - 1)) != ""
    assert secret_setting_errors("x" * minimum) == []
    assert secret_setting_errors("x" * (minimum - 1)) != []


def secret_setting_errors(secret: str) -> list[str]:
    """What ingest's settings say about ``secret`` as its webhook secret (other fields ignored)."""
    try:
        IngestSettings.model_validate({"INGEST_WEBHOOK_SECRET": secret})
    except ValidationError as exc:
        return [
            str(err["msg"])
            for err in exc.errors()
            if any("webhook_secret" in str(part).lower() for part in err["loc"])
        ]
    return []
