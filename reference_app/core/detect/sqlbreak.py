"""Where an input breaks out of the value the application pasted it in, and what it builds
there.

An application writes ``... WHERE id = <input>`` or ``... WHERE name = '<input>'``. An input
that only fills the value is data; an injection completes the value (a number, a word, the
literal its quote closes, perhaps with ``)`` that close the application's parentheses) and
then goes on with SQL: a boolean clause, a clause of the query (ORDER BY, GROUP BY ...
HAVING, LIMIT), a comment that cuts the rest of the query off, or an expression that the
query's own closing quote completes. The judgement follows the grammar of that continuation,
never a list of payloads: a clause of literals, calls or a subquery is SQL; a clause of bare
names (``x < y and y > z``) or of prose is text.
"""

from __future__ import annotations

from dataclasses import dataclass

from reference_app.core.detect.sqltokens import (
    COMMA,
    COMMENT,
    COMPARE,
    FUNCTION,
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
)  # fmt: skip

# keywords that begin a clause of a SELECT after its WHERE condition
_CLAUSES = frozenset({"order", "group", "having", "limit", "procedure", "into", "offset"})
_LITERAL_WORDS = frozenset({"true", "false", "null", "unknown"})
_SIGNS = frozenset({"-", "+", "~", "!"})
_ENDS = frozenset({COMMENT, SEMI})
_EQUALITY = frozenset({"=", "<>", "!=", "<=>"})
_ARITHMETIC = frozenset({"+", "-", "*", "/", "%", "|", "&", "^"})


@dataclass
class Operand:
    """What one operand of a boolean operator holds, up to the next operator or clause."""

    end: int
    tokens: int = 0
    names: int = 0  # bare words outside calls and subqueries
    compares: int = 0
    structure: int = 0  # parentheses, calls, variables, NOT
    subquery: bool = False


def _is_open_string(text: str) -> bool:
    """A literal the input leaves open: the query's own closing quote completes it."""
    return text[:1] in "'\"`" and (len(text) == 1 or text[-1] != text[0] or text[-2:-1] == "\\")


def value_end(s: Seq) -> tuple[int, int]:
    """The index after the value the input completes, and how many ``)`` follow it."""
    i = 1 if s.quoted else 0
    if not s.quoted:
        while s.kind(i) == OPERATOR and s.text(i) in _SIGNS:
            i += 1
        if s.kind(i) in (NUMBER, STRING, WORD, VARIABLE) or s.text(i) in _LITERAL_WORDS:
            i += 1
    closed = 0
    while s.kind(i) == RPAREN:
        i, closed = i + 1, closed + 1
    return i, closed


def operand(s: Seq, start: int) -> Operand:
    """Read one boolean operand from ``start``: to the next AND/OR at its depth, a clause,
    ``;``, a comment, UNION or the end."""
    found, depth, i = Operand(start), 0, start
    between = False
    while i < len(s.kinds):
        kind, word = s.kinds[i], s.texts[i]
        if depth == 0 and (
            kind in (SEMI, COMMENT, UNION)
            or (kind == LOGIC and word != "not" and not (between and word == "and"))
            or word in _CLAUSES
        ):
            break
        between = word == "between" or (between and word != "and")
        depth += (kind == LPAREN) - (kind == RPAREN)
        if depth < 0:
            break
        found.tokens += 1
        if kind == STATEMENT and word == "select":
            found.subquery = True
        if kind == WORD and depth == 0 and not found.subquery and s.kind(i + 1) != LPAREN:
            found.names += 1
        found.compares += word in COMPARE
        found.structure += kind in (LPAREN, FUNCTION, VARIABLE) or word == "not"
        i += 1
    found.end = i
    return found


def ends_query(s: Seq, i: int) -> bool:
    """The token at ``i`` cuts the query off: a comment, UNION, or a ';' that ends the input
    or starts a statement (the ';' of "&#039;" in text does neither)."""
    kind = s.kind(i)
    if kind == SEMI:
        return s.kind(i + 1) in ("", COMMENT, STATEMENT)
    return kind in (COMMENT, UNION)


def _boolean(s: Seq, at: int) -> str | None:
    clause = operand(s, at + 1)
    if not clause.tokens:
        return None
    ends = ends_query(s, clause.end) or s.text(clause.end) in _CLAUSES
    if s.quoted and ends and not s.prose_from(at + 1):
        return "literal closed and a boolean clause follows"
    last = s.tokens[clause.end - 1].text
    lone = clause.tokens == 1 and len(last) > 1 and not any(c.isspace() for c in s.texts[0])
    if s.quoted and _is_open_string(last) and (clause.compares or lone):
        # x' or name like '%a : the query's own closing quote completes the last literal
        return "literal closed and a boolean clause follows"
    if clause.names and not clause.subquery:
        return None  # names only the application knows: text such as "x < y and y > z"
    if clause.subquery or clause.compares or clause.structure or ends:
        return "boolean clause after the value"
    # "1950 or 1960" and '"wood" and "sign"' are text; "1 xor 1" and "x'||'" are not
    symbolic = s.texts[at] in ("xor", "&&", "||")
    return "boolean clause after the value" if symbolic else None


def _clause_list_end(s: Seq, i: int) -> int:
    """The index after a column list (``a, b.c desc, 2``)."""
    while s.kind(i) in (WORD, NUMBER, COMMA, OPERATOR, STRING) and s.text(i) not in COMPARE:
        i += 1
    return i


def clause(s: Seq, at: int) -> str | None:
    word = s.texts[at]
    if word in ("order", "group") and s.text(at + 1) == "by":
        end = _clause_list_end(s, at + 2)
        by_number = s.kind(at + 2) == NUMBER and s.kind(at + 3) in ("", COMMA, RPAREN, *_ENDS)
        follows = s.kind(end) in _ENDS or s.text(end) in _CLAUSES or s.kind(end) == UNION
        return f"{word.upper()} BY clause" if end > at + 2 and (by_number or follows) else None
    if word == "having":
        clause = operand(s, at + 1)
        return "HAVING clause" if clause.compares and not clause.names else None
    if word in ("limit", "offset") and s.kind(at + 1) == NUMBER:
        nxt = s.kind(at + 2)
        follows = nxt in (COMMA, *_ENDS, UNION) or s.text(at + 2) in _CLAUSES
        return "LIMIT clause" if follows else None
    if word == "into" and (s.kind(at + 1) == VARIABLE or s.text(at + 1) in ("outfile", "dumpfile")):
        return "INTO clause"
    if word == "procedure" and s.kind(at + 1) in (FUNCTION, WORD) and s.kind(at + 2) == LPAREN:
        return "PROCEDURE clause"
    return None


def _after_literal(s: Seq, at: int) -> str | None:
    """A literal context: the quote closed the application's literal at ``at - 1``."""
    first = s.tokens[0].text
    kind = s.kind(at)
    single_token = not any(c.isspace() for c in first)
    if kind == COMMENT and single_token and at == 1:
        return "literal closed and the rest of the query commented out"
    if kind == OPERATOR and (s.texts[at] in _EQUALITY or s.texts[at] in _ARITHMETIC):
        tail = operand(s, at)
        while s.kind(tail.end) == LOGIC:  # '=''or' : the whole rest of the condition
            more = operand(s, tail.end + 1)
            tail = Operand(more.end, tail.tokens + more.tokens, tail.names + more.names,
                           tail.compares + more.compares, tail.structure + more.structure,
                           tail.subquery or more.subquery)  # fmt: skip
        last = s.tokens[tail.end - 1].text
        completed = _is_open_string(last) or ends_query(s, tail.end)
        # '+' or '-' between quoted sizes is text (1/4"-1/2"); with a call or variable it is SQL
        sql = s.texts[at] in _EQUALITY or tail.structure or tail.subquery
        if not tail.names and completed and sql:
            return "literal closed and an expression completed by the query's own quote"
    # '!' and '~' have no use between two quotes in text: "x'!'" negates the query's literal
    negation = kind == OPERATOR and s.texts[at] in ("!", "~") and at + 2 == len(s.kinds)
    if negation and _is_open_string(s.tokens[at + 1].text):
        return "literal closed and the query's own literal negated"
    # an identifier context (`column`) holds no text: a comparison after it is SQL
    if first.endswith("`") and s.text(at) in COMPARE and not s.prose_from(at):
        return "identifier closed and a comparison follows"
    return None


def _after_parenthesis(s: Seq, at: int, closed: int) -> str | None:
    """``)`` closed the application's parentheses: a WHERE or the end of the query follows."""
    if s.text(at) == "as" and s.kind(at + 1) in (WORD, STRING):  # ") AS x WHERE …"
        at += 2
    if s.text(at) == "where" and operand(s, at + 1).compares:
        return "parenthesis closed and a WHERE condition follows"
    if at > closed and s.kind(at) in _ENDS:
        return "parenthesis closed and the rest of the query cut off"
    return None


def _literal_then_statement(s: Seq) -> str | None:
    """Rules for a literal context: what follows the quote that closed the app's literal."""
    if not s.quoted or len(s.kinds) < 2 or s.kinds[0] != STRING:
        return None
    tail, first = s.kinds[1:], s.tokens[0].text
    single_token = not any(c.isspace() for c in first)  # a user name, an email address
    found: dict[bool, str] = {
        s.texts[1] in ("from", "where", "having", "limit")
        and len(first) > 1
        and not s.prose_from(1): "literal closed and a clause follows",
        s.kinds[1] in (STATEMENT, UNION)
        and s.texts[1] in STACKABLE | {"union"}
        and STRING not in tail
        and not s.prose_from(2): "literal closed and a statement follows",
        tail[0] == SEMI and len(tail) <= 2 and single_token: (
            "literal closed and the statement ended"
        ),
        tail[-1] == COMMENT
        and len(tail) <= 3
        and any(k in (LOGIC, OPERATOR, RPAREN, SEMI) for k in tail[:-1]): (
            "literal closed and the rest of the query commented out"
        ),
    }
    return found.get(True)


def _open_comparison(s: Seq) -> str | None:
    """'x'!='y : a comparison whose last literal the query's own closing quote completes."""
    if s.quoted or s.kinds != [STRING, OPERATOR, STRING] or s.texts[1] not in COMPARE:
        return None
    first, last = s.tokens[0].text, s.tokens[2].text
    if first[-1:] == first[:1] and last[-1:] != last[:1]:
        return "comparison completed by the query's own quote"
    return None


def broken_out(s: Seq) -> str | None:
    """A reason when the input completes the application's value and goes on with SQL."""
    at, closed = value_end(s)
    if s.text(at) in ("asc", "desc") and at > 0:
        at += 1
    kind, word = s.kind(at), s.text(at)
    if kind == LOGIC and word != "not":
        return _boolean(s, at)
    if word in _CLAUSES:
        return clause(s, at)
    found = _after_parenthesis(s, at, closed) if closed else None
    if not found and s.quoted and at >= 1:
        found = _after_literal(s, at) or _literal_then_statement(s)
    return found or _open_comparison(s)
