"""A SQL tokenizer for detection: token classes as libinjection names them (string, number,
bare word, keyword, logic operator, UNION, statement, function call, operator, comment, ...).

It reads any text, never fails, and classifies words by SQL's own vocabulary: what matters to
the rules in ``sqli`` is the shape of the token sequence, not any single word.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# token classes
STRING, NUMBER, WORD, KEYWORD, LOGIC = "s", "1", "n", "k", "&"
UNION, STATEMENT, FUNCTION, OPERATOR, COMMENT = "U", "E", "f", "o", "c"
VARIABLE, LPAREN, RPAREN, COMMA, SEMI = "v", "(", ")", ",", ";"

LOGIC_WORDS = _words("and or xor not &&")
STATEMENTS = _words(
    """
    select insert update delete drop create alter exec execute declare truncate shutdown
    waitfor replace grant revoke merge handler rename
    """
)
KEYWORDS = _words(
    """
    from where having group order by limit offset into values like rlike regexp between is
    null case when then else end in as all distinct distinctrow table procedure delay
    outfile dumpfile true false collate escape sounds top join on set exists any some
    immediate analyse function returns precision information_schema pg_catalog sysobjects
    syscolumns sysdatabases dual tempdb msdb master mysql
    """
)
# built-in functions of MySQL, PostgreSQL, MSSQL, Oracle and SQLite that attacks call
FUNCTIONS = _words(
    """
    abs acos ascii asin atan atan2 avg benchmark bin bit_length cast ceil ceiling char
    char_length character_length charindex chr coalesce compress concat concat_ws conv
    convert cos cot count crc32 current_user current_database current_schema database
    db_name dbms_pipe dbms_lock dbms_ldap decode degrees elt encode exp export_set
    extractvalue field find_in_set floor format from_base64 geometrycollection get_lock
    greatest group_concat hex if ifnull iif inet_aton insert instr is_srvrolemember isnull
    json_extract json_keys json_build_object jsonb_pretty last_insert_id lcase least left
    length linestring ln load_file locate log log10 log2 lower lpad ltrim make_set
    master_pos_wait md5 mid multipoint multipolygon name_const now nullif oct octet_length
    ord pg_sleep pg_read_file pg_ls_dir polygon position pow power quote radians rand
    randomblob release_lock repeat replace reverse right round row_count rpad rtrim schema
    sha sha1 sha2 sign sin sleep soundex sqlite_version sqlite_compileoption_get
    sqlite_compileoption_used sqrt starts_with std stddev strcmp subdate substr substring
    substring_index sum sys_context sysdate system_user tan to_base64 trim ucase unhex
    uncompress unistr updatexml upper user_name utl_http utl_inaddr uuid version xmltype
    lo_import lo_get lo_export pg_read_binary_file user analyse div mod
    """
)
STACKABLE = _words(
    "select insert update delete drop create alter truncate declare shutdown waitfor"
)
COMPARE = _words(
    """
    = < > <= >= <> != <=> like rlike regexp is in between sounds @> <@ ? ?| ?& -> ->> #> #>>
    #- @? @@ :=
    """
)
# SQL-standard functions called without parentheses
NILADIC = _words(
    "current_user session_user system_user current_date current_time current_timestamp "
    "localtimestamp current_role"
)
# longest first, so that "<=>" is not read as "<=" then ">"
_OPERATORS = sorted(
    _words(
        """
    <=> ->> #>> :: <= >= <> != || && := @> <@ -> #> #- @? @@ ?| ?& = < > + - * / % ^ | & ~
    ! ? @
    """
    ),
    key=len,
    reverse=True,
)

_PREFIXED_STRING = re.compile(r"(?:[nNxXbBeE]|_[a-zA-Z0-9]+)'")
_WORD = re.compile(r"[^\W\d][\w$]*")
_NUMBER = re.compile(r"0x[0-9a-fA-F]+|0b[01]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d*)?")
_OPERATOR = re.compile("|".join(re.escape(op) for op in _OPERATORS))
# what may stand between a function name and its "(": space and comments (sleep/**/(5))
_CALL_OPENS = re.compile(r"\s*(?:/\*.*?\*/\s*)*\(", re.S)
_VAR = re.compile(r"@@?[A-Za-z0-9_.$]*|@`[^`]*`")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def _string_end(text: str, start: int, quote: str) -> int:
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return len(text)


def tokenize(text: str, quote: str = "") -> list[Token]:
    """SQL tokens of ``text``; with ``quote`` the input starts inside a literal of that quote."""
    tokens: list[Token] = []
    i = 0
    if quote:
        end = _string_end(text, 0, quote)
        tokens.append(Token(STRING, text[:end]))
        i = end
    n = len(text)
    while i < n:
        ch = text[i]
        # SQL engines skip control characters (NUL) like space; an undecodable byte (U+FFFD)
        # may be Latin-1's no-break space, which MySQL reads as one
        if ch.isspace() or ch < " " or ch == "\ufffd":
            i += 1
        elif ch in "'\"`":
            end = _string_end(text, i + 1, ch)
            tokens.append(Token(WORD if ch == "`" else STRING, text[i:end]))
            i = end
        elif text.startswith(("/*", "--"), i) or _hash_comment(text, i):
            comment, i = _comment(text, i)
            tokens.append(comment)
        elif ch in "(){}[]":
            tokens.append(Token(LPAREN if ch in "({[" else RPAREN, ch))
            i += 1
        elif ch in ",;":
            tokens.append(Token(ch, ch))
            i += 1
        elif ch == "@" and (m := _VAR.match(text, i)) and len(m.group()) > 1:
            tokens.append(Token(VARIABLE, m.group()))
            i = m.end()
        elif (m := _NUMBER.match(text, i)) and m.group():
            tokens.append(Token(NUMBER, m.group()))
            i = m.end()
        elif m := _PREFIXED_STRING.match(text, i):  # N'text', X'4142', _utf8'x'
            end = _string_end(text, m.end(), text[m.end() - 1])
            tokens.append(Token(STRING, text[m.end() - 1 : end]))
            i = end
        elif m := _WORD.match(text, i):
            tokens.append(_classify(m.group(), text, m.end()))
            i = m.end()
        else:
            match = _OPERATOR.match(text, i)
            op = match.group() if match else ch
            kind = LOGIC if op in ("&&", "||") else OPERATOR
            tokens.append(Token(kind, op))
            i += len(op)
    return tokens


# the class of a word not called as a function; later entries win (UNION over KEYWORD)
_WORD_KINDS = (
    dict.fromkeys(KEYWORDS, KEYWORD)
    | dict.fromkeys(STATEMENTS, STATEMENT)
    | dict.fromkeys(LOGIC_WORDS, LOGIC)
    | {"union": UNION}
    | dict.fromkeys(NILADIC, VARIABLE)  # system values read like variables (@@version)
)


def _hash_comment(text: str, i: int) -> bool:
    """MySQL's '#' comment; not an operator (#>, #-), a number sign (#2) or the '#' of an
    HTML character reference (&#039;)."""
    if text[i] != "#" or text.startswith(("#>", "#-"), i):
        return False
    return not (text[i + 1 : i + 2].isdigit() or text[i - 1 : i] == "&")


def _comment(text: str, i: int) -> tuple[Token, int]:
    """The comment starting at ``i`` and where the text goes on after it."""
    if not text.startswith("/*", i):  # -- and # run to the end of the line (of the input)
        return Token(COMMENT, text[i:]), len(text)
    end = text.find("*/", i + 2)
    body = text[i + 2 : end if end >= 0 else len(text)].lstrip()
    after = len(text) if end < 0 else end + 2
    # MySQL executable comments (/*!50000 select */) and optimizer hints (/*+ ... */) are SQL
    marker = body[:1] if body[:1] in ("!", "+") else ""
    return Token(COMMENT, "/*" + marker), after


def _classify(word: str, text: str, end: int) -> Token:
    lower = word.lower()
    called = (lower in FUNCTIONS or lower in STATEMENTS) and _CALL_OPENS.match(text, end)
    if called:
        return Token(FUNCTION, lower)
    kind = _WORD_KINDS.get(lower)
    return Token(kind, lower) if kind else Token(WORD, word)


def boundary_number(text: str) -> bool:
    """Integers at 2**31, 2**32, 2**63 or 2**64 (or one below), which overflow integer columns,
    and decimals below the smallest normal double (subnormals), where number parsers have
    hung (CVE-2010-4476, CVE-2010-4645)."""
    if text.isdigit():
        value = int(text) if len(text) <= 40 else 0
        return value >= 2**31 and (value & (value - 1) == 0 or value & (value + 1) == 0)
    if "e" not in text.lower() or text.lower().startswith("0x"):
        return False
    try:
        return 0.0 < abs(float(text)) < sys.float_info.min
    except ValueError:
        return False


@dataclass
class Seq:
    """One reading of the input: its tokens (inline comments dropped) and their classes."""

    tokens: list[Token]
    quoted: bool
    kinds: list[str] = field(init=False)
    texts: list[str] = field(init=False)

    def __post_init__(self) -> None:
        # inline comments separate tokens like whitespace (sleep/**/(5)); a trailing one stays
        last = len(self.tokens) - 1
        inline = {n for n, t in enumerate(self.tokens) if t.kind == COMMENT and t.text == "/*"}
        self.tokens = [t for n, t in enumerate(self.tokens) if n not in inline or n == last]
        self.kinds = [t.kind for t in self.tokens]
        self.texts = [t.text.lower() for t in self.tokens]
        # the classes of the input's own tokens, a literal context's opening quote aside
        self.own_kinds = set(self.kinds[1:] if self.quoted else self.kinds)
        # suffix facts, so that each rule stays O(1) and a long input O(n)
        count = len(self.kinds)
        self._prose = [False] * (count + 1)
        self._after: list[frozenset[str]] = [frozenset()] * (count + 1)
        for j in range(count - 1, -1, -1):
            pair = self.kinds[j] == WORD and j + 1 < count and self.kinds[j + 1] == WORD
            self._prose[j] = self._prose[j + 1] or pair
            marks = {self.kinds[j]} | ({self.texts[j]} & {"when", "then"})
            self._after[j] = (
                self._after[j + 1] | marks if marks - self._after[j + 1] else self._after[j + 1]
            )

    def kind(self, i: int) -> str:
        return self.kinds[i] if 0 <= i < len(self.kinds) else ""

    def text(self, i: int) -> str:
        return self.texts[i] if 0 <= i < len(self.texts) else ""

    def prose_from(self, start: int) -> bool:
        """Two bare words in a row from ``start`` on: natural language, not SQL."""
        return self._prose[min(start, len(self.kinds))]

    def after(self, start: int) -> frozenset[str]:
        """The token classes (and the words WHEN, THEN) from ``start`` on."""
        return self._after[min(start, len(self.kinds))]
