"""SQL injection: tokenize the input as SQL, in the contexts it may be pasted into, and look
for token sequences that change a query's structure (in the spirit of libinjection).

The input is read as is (a number or bare-word context) and as if it followed an opening
single quote, double quote or backtick (a literal context). Each reading is a sequence of
token classes. ``sqlbreak`` judges where the input completes the application's value and
what it builds after it; the rules here judge tokens that are SQL wherever they stand: UNION
SELECT, a stacked statement, a call of a SQL function with SQL arguments, a subquery, a
tautology after AND/OR, and so on. Each rule is one small function; none looks for a
particular payload.
"""

from __future__ import annotations

from collections.abc import Callable

from reference_app.core.detect.sqlbreak import broken_out, clause
from reference_app.core.detect.sqltokens import (
    COMMA,
    COMMENT,
    COMPARE,
    FUNCTION,
    FUNCTIONS,
    KEYWORD,
    LOGIC,
    LPAREN,
    NUMBER,
    OPERATOR,
    RPAREN,
    SEMI,
    STACKABLE,
    STATEMENT,
    STRING,
    UNION,
    VARIABLE,
    WORD,
    Seq,
    Token,
    boundary_number,
    tokenize,
)  # fmt: skip


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SYSTEM_OBJECTS = _words(
    "information_schema pg_catalog sysobjects syscolumns sysdatabases tempdb msdb"
)
# functions every formula language has: a closed call of one is mathematics, not SQL
MATH = _words(
    "abs acos asin atan atan2 ceil ceiling cos cot degrees exp floor ln log log10 log2 mod "
    "pow power radians rand round sign sin sqrt tan"
)
OPERAND = frozenset({STRING, NUMBER, WORD, VARIABLE, FUNCTION})
BOOLEAN_LITERALS = _words("true false null")
DDL_OBJECTS = _words("table database function procedure user view index schema")


Rule = Callable[[Seq, int], str | None]
# Rules with several cases write them as {condition: reason, ...}: conditions that do not
# hold collapse onto the key False, and .get(True) is the reason of one that holds.


def _hint_comment(s: Seq, i: int) -> str | None:
    hint = s.kinds[i] == COMMENT and s.texts[i] in ("/*!", "/*+")
    return "MySQL executable comment or optimizer hint" if hint else None


def _system_variable(s: Seq, i: int) -> str | None:
    """@@version, @@datadir: the server's own variables, never in text."""
    text = s.texts[i]
    return "system variable" if text.startswith("@@") and text[2:].isidentifier() else None


def _union_select(s: Seq, i: int) -> str | None:
    if s.kinds[i] != UNION:
        return None
    follows = s.kind(i + 1) in (STATEMENT, FUNCTION, LPAREN)
    return (
        "UNION SELECT" if follows or s.text(i + 1) in ("all", "distinct", "distinctrow") else None
    )


# how far a call's arguments are read to judge them (bounds the work on nested calls)
_ARGUMENTS_SEEN = 64


def _call_is_sql(s: Seq, start: int, name: str) -> bool:
    kinds = s.kinds
    # a SQL call has SQL arguments and is followed by SQL or nothing, never by prose
    if s.prose_from(start) and STATEMENT not in s.after(start):
        return False
    # sin(x) in a formula is mathematics; only a call left open ("sin(") or holding SQL is SQL
    if name in MATH and RPAREN in s.after(start) and not {STATEMENT, STRING} & s.own_kinds:
        return False
    # f(a && b), sum(a, b): names and operators only, closed: a formula, not SQL
    depth, end, commas = 0, start, 0
    for end in range(start, min(len(kinds), start + _ARGUMENTS_SEEN)):
        depth += (kinds[end] == LPAREN) - (kinds[end] == RPAREN)
        commas += depth == 1 and kinds[end] == COMMA
        if depth == 0:
            break
    inner = set(kinds[start + 1 : end])
    if depth == 0 and end > start + 1 and inner <= {WORD, OPERATOR, LOGIC, COMMA}:
        return False
    # SQL's IF(cond, a, b) takes three arguments; "if (x == 1 || y == 2)" is code or prose
    if name in ("if", "iif") and depth == 0 and commas < 2:
        return False
    # Name(word) or Name(word),more: a label with a note, not a call worth injecting
    label = kinds[start : start + 3] == [LPAREN, WORD, RPAREN]
    return not (label and kinds[start + 3 : start + 4] in ([], [COMMA]))


def _function_call(s: Seq, i: int) -> str | None:
    name = s.texts[i]
    sql = s.kinds[i] == FUNCTION and _call_is_sql(s, i + 1, name)
    return f"call of SQL function {name}()" if sql else None


def _select_from(s: Seq, i: int) -> bool:
    """A whole SELECT: a column list (not prose), FROM, a table, then a clause or an end of
    statement ("select items from cart" alone stays text)."""
    if s.kind(i - 1) not in ("", LPAREN, SEMI, UNION) or s.prose_from(i + 1):
        return False
    j = i + 1
    while s.kind(j) not in ("", SEMI, COMMENT) and s.text(j) != "from":
        j += 1
    clause = s.text(j + 2) in ("where", "limit", "order", "group", "union", ".", "join")
    follows = clause and j + 3 < len(s.kinds)  # "select x from y where" alone is a sentence
    return j > i + 1 and s.text(j) == "from" and (follows or s.kind(j + 2) in (SEMI, COMMENT))


def _statement(s: Seq, i: int) -> str | None:
    word, nxt, nxt_text = s.texts[i], s.kind(i + 1), s.text(i + 1)
    if s.kinds[i] == SEMI and nxt == STATEMENT and nxt_text in STACKABLE:
        return "stacked statement"
    if s.kinds[i] != STATEMENT:
        return None
    found: dict[bool, str] = {
        word in ("exec", "execute", "declare")
        and (
            nxt in (VARIABLE, LPAREN)
            or nxt_text.startswith(("xp_", "sp_", "master"))
            or nxt_text == "immediate"
        ): f"{word} statement",
        word == "waitfor" and nxt_text in ("delay", "time"): "WAITFOR DELAY",
        word == "select"
        and (nxt_text in FUNCTIONS or nxt in (FUNCTION, VARIABLE) or nxt_text == "*"): (
            "SELECT of a function or all columns"
        ),
        word == "select" and _select_from(s, i): "SELECT … FROM … with a clause",
        word == "select"
        and nxt == NUMBER
        and (s.kind(i + 2) in ("", COMMA, SEMI, COMMENT, UNION) or s.text(i + 2) == "from"): (
            "SELECT of a number"
        ),
        word == "select"
        and s.kind(i - 1) == LPAREN
        and nxt not in ("", RPAREN)
        and not s.prose_from(i + 1): "subquery",
        word in ("insert", "replace") and nxt_text == "into": "INSERT INTO",
        word in ("drop", "create", "alter", "truncate") and nxt_text in DDL_OBJECTS: (
            f"{word.upper()} {nxt_text.upper()}"
        ),
    }
    return found.get(True)


def _keyword(s: Seq, i: int) -> str | None:
    word, nxt_text = s.texts[i], s.text(i + 1)
    if s.kinds[i] == WORD and word not in ("mysql", "master", "sys"):
        return None
    found: dict[bool, str] = {
        word in ("outfile", "dumpfile") and s.text(i - 1) == "into": "INTO OUTFILE",
        word in ("mysql", "master", "sys") and nxt_text == ".": f"qualified system object {word}.",
        s.kinds[i] == KEYWORD and word in SYSTEM_OBJECTS: f"system catalogue {word}",
        word == "case" and {"when", "then"} <= s.after(i): "CASE WHEN expression",
        word == "procedure" and nxt_text == "analyse": "PROCEDURE ANALYSE",
        word in ("order", "group", "having") and bool(clause(s, i)): f"{word.upper()} clause",
        word == "as"
        and s.kind(i + 1) in (STRING, WORD)
        and s.text(i + 2) == "from"
        and s.tokens[i + 1].text[:1] in "`\"'": "aliased column FROM",
    }
    return found.get(True)


def _alone(s: Seq, i: int) -> bool:
    """Token ``i`` is the whole value (a sign aside), as an overflow probe sends it."""
    return not s.quoted and i == len(s.kinds) - 1 and all(k == OPERATOR for k in s.kinds[:i])


def _operator(s: Seq, i: int) -> str | None:
    kind, word, nxt = s.kinds[i], s.texts[i], s.kind(i + 1)
    found: dict[bool, str] = {
        kind == RPAREN
        and s.text(i + 1) in ("like", "rlike", "regexp", "sounds")
        and s.kind(i + 2) in (LPAREN, ""): "parenthesised LIKE comparison",
        kind == OPERATOR and word == "::" and nxt in (WORD, KEYWORD): "PostgreSQL cast",
        kind == NUMBER
        and word.endswith("e")
        and "." in word
        and nxt in (LPAREN, OPERATOR, WORD, KEYWORD): "MySQL scientific-notation evasion",
        kind == NUMBER
        and _alone(s, i)
        and boundary_number(word): "number at an overflow or parser boundary",
        kind == STRING
        and s.text(i + 1) in COMPARE
        and s.kind(i + 2) == STRING
        and s.text(i + 3) in COMPARE
        and i + 4 < len(s.kinds): "chained comparison of literals",
    }
    return found.get(True)


def _tautology_operand(token: Token) -> bool:
    if token.kind == NUMBER:
        return True
    if token.kind == STRING:
        inner = token.text.strip("'\"")
        return len(inner) == 1 or inner.replace(".", "").isdigit()
    return token.kind == KEYWORD and token.text.lower() in BOOLEAN_LITERALS


def _same_literal(a: Token, b: Token) -> bool:
    return (
        a.kind in (NUMBER, STRING)
        and b.kind in (NUMBER, STRING)
        and (a.text.strip("'\"").lower() == b.text.strip("'\"").lower())
    )


def _boolean_clause(s: Seq, i: int) -> str | None:
    """AND/OR anywhere, followed by a comparison that is true by itself (1=1, 'a'='a') or
    that compares with a call or a subquery; an operand of names is text."""
    if s.kinds[i] != LOGIC or s.texts[i] == "not":
        return None
    left, op, right = s.kind(i + 1), s.text(i + 2), s.kind(i + 3)
    if left in OPERAND and left != WORD and op in COMPARE:
        if right in (LPAREN, FUNCTION) and s.kind(i + 4) != RPAREN:
            return "boolean clause comparing with a call or subquery"
        if i + 3 < len(s.kinds) and _same_literal(s.tokens[i + 1], s.tokens[i + 3]):
            return "boolean clause with a tautology"
    # after a literal context's quote, the breakout rules judge what follows
    if s.quoted or s.kind(i - 1) not in (NUMBER, STRING) or i + 1 >= len(s.kinds):
        return None
    operand, rest = s.tokens[i + 1], s.kinds[i + 2 :]
    ends = not rest or rest == [COMMENT]
    # "1950 or 1960" is prose; "1 or true", "1 or 1--" are not
    plain_numbers = operand.kind == NUMBER and not rest
    if _tautology_operand(operand) and ends and not plain_numbers:
        return "tautology"
    return None


# each rule only ever fires on a token of these classes: look rules up by class
_RULES: dict[str, tuple[Rule, ...]] = {
    COMMENT: (_hint_comment,),
    UNION: (_union_select,),
    FUNCTION: (_function_call,),
    SEMI: (_statement,),
    STATEMENT: (_statement,),
    KEYWORD: (_keyword,),
    WORD: (_keyword,),
    RPAREN: (_operator,),
    OPERATOR: (_operator,),
    NUMBER: (_operator,),
    STRING: (_operator,),
    LOGIC: (_boolean_clause,),
    VARIABLE: (_system_variable,),
}


def attack_in(tokens: list[Token], quoted: bool) -> str | None:
    """The first rule that finds an attack in one reading of the input."""
    seq = Seq(tokens, quoted)
    for i, kind in enumerate(seq.kinds):
        for rule in _RULES.get(kind, ()):
            reason = rule(seq, i)
            if reason:
                return reason
    return broken_out(seq)


def detect_sqli(text: str) -> str | None:
    """A short reason when ``text`` reads as SQL injection in some context, else None."""
    if len(text) < 2:
        return None
    for quote in ("", "'", '"', "`"):
        if quote and quote not in text:
            continue
        reason = attack_in(tokenize(text, quote), bool(quote))
        if reason:
            return reason
    return None
