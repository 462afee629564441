# ruff: noqa: E501 - a data table: one hostile input per row reads best unbroken
"""The hand-written hostile corpus (issue 12): each row is one input a stranger or a slip could
give the tool, the boundary it crosses, and the contract the tool keeps for it.

Contracts:
- ONE_HEADER: the value is refused with one line, or becomes exactly one header with no
  control character after decoding.
- ONE_ADDRESS: a display name becomes exactly one address, whatever it holds.
- ONE_LINE: refused with one line naming the file and line, or the setting or option
  (exit 2 through the CLI, no traceback, nothing written).
- ROW_SKIPPED: the row is left out with its line and reason; the good rows are kept.
- SKIPPED_AND_GOES_ON: a mailbox message is skipped or read harmlessly; the import goes on.
- NOT_500: the web app answers 2xx or 4xx (never 5xx) and never echoes input as raw HTML.
- NO_FORMULA: an exported cell is never read as a formula, and reads back as it was.
- TEXT: the terminal prints the data as text (no markup, emoji code or escape sequence obeyed).
"""

from __future__ import annotations

from dataclasses import dataclass

ONE_HEADER = "one header or one line"
ONE_ADDRESS = "exactly one address"
ONE_LINE = "one line, exit 2, nothing written"
ROW_SKIPPED = "row skipped with its reason"
SKIPPED_AND_GOES_ON = "skipped and the import goes on"
NOT_500 = "4xx, never 500, no raw HTML"
NO_FORMULA = "no formula, round trip"
TEXT = "printed as text"
CONTRACTS = (ONE_HEADER, ONE_ADDRESS, ONE_LINE, ROW_SKIPPED, SKIPPED_AND_GOES_ON, NOT_500, NO_FORMULA, TEXT)


@dataclass(frozen=True)
class Case:
    id: str
    boundary: str
    given: object
    contract: str
    expect: str = ""  # text the answer must contain (the file:line, the setting, the reason)


def _cases(boundary: str, contract: str, rows: list[tuple[str, object] | tuple[str, object, str]]) -> list[Case]:
    return [Case(row[0], boundary, row[1], contract, row[2] if len(row) > 2 else "") for row in rows]  # type: ignore[misc]


HEADERS = _cases(
    "subject header",
    ONE_HEADER,
    [
        ("q-encoded-crlf-bcc", "=?utf-8?q?Hi=0D=0ABcc:_victim@example.net?="),
        ("b-encoded-crlf-bcc", "=?utf-8?b?SGkNCkJjYzogdmljdGltQGV4YW1wbGUubmV0?="),
        ("q-encoded-lf-only", "=?utf-8?q?Hi=0ABcc:_victim@example.net?="),
        ("q-encoded-cr-only", "=?utf-8?q?Hi=0DBcc:_victim@example.net?="),
        ("latin1-encoded-crlf", "=?iso-8859-1?q?Hi=0D=0ABcc:_victim@example.net?="),
        ("encoded-word-mid-subject", "Spring news =?utf-8?q?=0D=0ABcc:_v@example.net?= from Stockport"),
        ("two-encoded-words", "=?utf-8?q?Hi?= =?utf-8?q?=0D=0ATo:_v@example.net?="),
        ("raw-crlf", "Hi\r\nBcc: victim@example.net"),
        ("raw-lf", "Hi\nBcc: victim@example.net"),
        ("raw-cr", "Hi\rBcc: victim@example.net"),
        ("nul", "Hi\x00there"),
        ("esc", "Hi\x1b[2Jthere"),
        ("del", "Hi\x7fthere"),
        ("c1-nel", "Hi\x85there"),
        ("line-separator", "Hi\u2028Bcc: victim@example.net"),
        ("encoded-nul", "=?utf-8?q?Hi=00there?="),
        ("encoded-tab", "=?utf-8?q?Hi=09there?="),
        ("unknown-charset", "=?x-unknown?q?Hi=0D=0ABcc:_v@example.net?="),
        ("broken-encoded-word", "=?utf-8?q?Hi=0D=0A"),
        ("very-long", "Stockport " * 200),
        ("long-no-spaces", "x" * 2000),
        ("header-lookalike", "Bcc: victim@example.net"),
        ("colon-and-angle", "Re: <script>alert(1)</script>"),
        ("emoji-and-rtl", "\U0001f600 \u202eevil"),
    ],
)

DISPLAY_NAMES = _cases(
    "recipient display name",
    ONE_ADDRESS,
    [
        ("quotes-backslashes", 'Smith\\" <attacker@example.net>, "Jones'),
        ("quotes-backslashes-long", 'Smith\\" <attacker@example.net>, "Jones ' * 4),
        ("comma-second-address", "Jones, victim@example.net"),
        ("angle-address", "<victim@example.net>"),
        ("semicolon-group", "friends: victim@example.net;"),
        ("trailing-backslash", "Smith\\"),
        ("unbalanced-quote", '"Smith'),
        ("parentheses-comment", "Smith (victim@example.net)"),
        ("encoded-word-name", "=?utf-8?q?victim=40example.net?="),
        ("non-ascii", "Zo\u00eb O'Brien-\u0141ukasz"),
        ("only-specials", '<>@,;:\\".[]'),
        ("very-long-name", "Ann " * 100),
    ],
)

SETTINGS = _cases(
    "setting",
    ONE_LINE,
    [
        ("from-encoded-crlf", ("NEWSLETTER_FROM", "=?utf-8?q?Ann=0D=0ABcc:_v@example.net?= <news@example.org>")),
        ("from-two-addresses", ("NEWSLETTER_FROM", "news@example.org, other@example.net")),
        ("from-raw-crlf", ("NEWSLETTER_FROM", "Ann <news@example.org>\r\nBcc: v@example.net")),
        ("from-no-address", ("NEWSLETTER_FROM", "Ann Coffey MP")),
        ("from-group", ("NEWSLETTER_FROM", "office: news@example.org;")),
        ("reply-to-encoded-crlf", ("NEWSLETTER_REPLY_TO", "=?utf-8?b?QQ0KQmNjOiB2QGV4YW1wbGUubmV0?= <o@example.org>")),
        ("reply-to-two", ("NEWSLETTER_REPLY_TO", "o@example.org; v@example.net")),
        ("list-id-encoded-crlf", ("NEWSLETTER_LIST_ID", "=?utf-8?q?x=0D=0ABcc:_v@example.net?= <news.example.org>")),
        ("list-id-no-id", ("NEWSLETTER_LIST_ID", "Ann's newsletter")),
        ("unsubscribe-url-bcc", ("UNSUBSCRIBE_URL", "https://www.example.org/u?bcc=v@example.net")),
        ("unsubscribe-url-angle", ("UNSUBSCRIBE_URL", "https://www.example.org/u>, <https://evil.example.net/")),
        ("unsubscribe-url-userinfo", ("UNSUBSCRIBE_URL", "https://u:p@www.example.org/u")),
        ("unsubscribe-url-fragment", ("UNSUBSCRIBE_URL", "https://www.example.org/u#x")),
        ("unsubscribe-url-token", ("UNSUBSCRIBE_URL", "https://www.example.org/u?token=forged")),
        ("unsubscribe-url-http", ("UNSUBSCRIBE_URL", "http://www.example.org/u")),
        ("unsubscribe-url-javascript", ("UNSUBSCRIBE_URL", "javascript:alert(1)")),
        ("unsubscribe-url-space", ("UNSUBSCRIBE_URL", "https://www.example.org/u nsubscribe")),
        ("unsubscribe-url-bad-port", ("UNSUBSCRIBE_URL", "https://www.example.org:99999/u")),
        ("mailto-bcc", ("UNSUBSCRIBE_MAILTO", "unsubscribe@example.org?bcc=v@example.net")),
        ("mailto-subject", ("UNSUBSCRIBE_MAILTO", "mailto:unsubscribe@example.org?subject=x")),
        ("mailto-two", ("UNSUBSCRIBE_MAILTO", "unsubscribe@example.org,v@example.net")),
        ("mailto-angle", ("UNSUBSCRIBE_MAILTO", "unsubscribe@example.org>")),
        ("website-quote", ("NEWSLETTER_WEBSITE", 'https://www.example.org/"onmouseover=alert(1)')),
        ("archive-no-host", ("NEWSLETTER_ARCHIVE_URL", "https:///newsletter/")),
        ("connections-huge", ("SMTP_CONNECTIONS", "99999999999999999999")),
        ("connections-superscript", ("SMTP_CONNECTIONS", "\u00b2")),
        ("connections-arabic-indic", ("SMTP_CONNECTIONS", "\u0663")),
        ("connections-underscore", ("SMTP_CONNECTIONS", "1_000")),
        ("connections-zero", ("SMTP_CONNECTIONS", "0")),
        ("port-too-big", ("SMTP_PORT", "65536")),
        ("port-negative", ("SMTP_PORT", "-25")),
        ("port-hex", ("SMTP_PORT", "0x19")),
        ("retry-delay-nan", ("SMTP_RETRY_DELAY", "nan")),
        ("timeout-inf", ("SMTP_TIMEOUT", "inf")),
        ("rate-exponent", ("SMTP_RATE", "1e400")),
        ("soft-bounce-superscript", ("NEWSLETTER_SOFT_BOUNCE_LIMIT", "\u00b3")),
    ],
)

# DKIM settings, given through the environment to a real `newsletter build`; "<key:...>" names a
# file the test writes in the project (a key of the wrong kind, size or shape).
DKIM = _cases(
    "DKIM setting",
    ONE_LINE,
    [
        ("domain-crlf", {"DKIM_DOMAIN": "example.org\r\nBcc: v@example.net"}, "DKIM_DOMAIN"),
        ("domain-semicolon-tag", {"DKIM_DOMAIN": "example.org; h=from"}, "DKIM_DOMAIN"),
        ("domain-encoded-word", {"DKIM_DOMAIN": "=?utf-8?q?a=0D=0Ab?="}, "DKIM_DOMAIN"),
        ("domain-trailing-dot-dot", {"DKIM_DOMAIN": "example..org"}, "DKIM_DOMAIN"),
        ("domain-too-long", {"DKIM_DOMAIN": ("a" * 63 + ".") * 5 + "org"}, "DKIM_DOMAIN"),
        ("selector-tag-injection", {"DKIM_SELECTOR": "s1; l=0"}, "DKIM_SELECTOR"),
        ("selector-space", {"DKIM_SELECTOR": "s 1"}, "DKIM_SELECTOR"),
        ("selector-unicode", {"DKIM_SELECTOR": "s\u00e91"}, "DKIM_SELECTOR"),
        ("only-domain", {"DKIM_SELECTOR": "", "DKIM_PRIVATE_KEY": ""}, "DKIM_SELECTOR"),
        ("only-key", {"DKIM_DOMAIN": "", "DKIM_SELECTOR": ""}, "DKIM_DOMAIN"),
        ("key-missing", {"DKIM_PRIVATE_KEY": "keys/none.pem"}, "DKIM_PRIVATE_KEY"),
        ("key-nul-in-path", {"DKIM_PRIVATE_KEY": "keys/a\x00b.pem"}, "DKIM_PRIVATE_KEY"),
        ("key-newline-in-path", {"DKIM_PRIVATE_KEY": "keys/a\nb.pem"}, "DKIM_PRIVATE_KEY"),
        ("key-is-a-folder", {"DKIM_PRIVATE_KEY": "issues"}, "DKIM_PRIVATE_KEY"),
        ("key-not-pem", {"DKIM_PRIVATE_KEY": "<key:garbage>"}, "DKIM_PRIVATE_KEY"),
        ("key-public-only", {"DKIM_PRIVATE_KEY": "<key:public>"}, "DKIM_PRIVATE_KEY"),
        ("key-encrypted", {"DKIM_PRIVATE_KEY": "<key:encrypted>"}, "DKIM_PRIVATE_KEY"),
        ("key-ec-not-rsa", {"DKIM_PRIVATE_KEY": "<key:ec>"}, "DKIM_PRIVATE_KEY"),
        ("key-empty-file", {"DKIM_PRIVATE_KEY": "<key:empty>"}, "DKIM_PRIVATE_KEY"),
        ("key-huge-file", {"DKIM_PRIVATE_KEY": "<key:huge>"}, "DKIM_PRIVATE_KEY"),
    ],
)

ISSUE_YAML = _cases(
    "issue YAML",
    ONE_LINE,
    [
        (
            "billion-laughs",
            "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
            "subject: *c\n",
            "x.yaml:2:",
        ),
        ("alias-as-subject", "s: &s Spring\nsubject: *s\n", "x.yaml:2:"),
        ("merge-key-alias", "base: &b {subject: x}\n<<: *b\n", "x.yaml:2:"),
        ("year-zero", "subject: x\ndate: 0000-01-01\n", "x.yaml:2:"),
        ("thirtieth-february", "subject: x\ndate: 2018-02-30\n", "x.yaml:2:"),
        ("month-thirteen-timestamp", "subject: x\ndate: 2018-13-01 10:00:00\n", "x.yaml:2:"),
        ("hour-25", "subject: x\ndate: 2018-01-01 25:00:00\n", "x.yaml:2:"),
        ("deep-flow-nesting", "subject: " + "[" * 3000 + "]" * 3000 + "\n", "x.yaml:1:"),
        ("deep-block-nesting", "".join("  " * i + f"k{i}:\n" for i in range(80)) + "  " * 80 + "v\n", "x.yaml:"),
        ("nul-byte", "subject: a\x00b\ndate: 2018-01-01\n", "x.yaml:1:"),
        ("nul-on-line-3", "subject: a\ndate: 2018-01-01\nintro: \x00\n", "x.yaml:3:"),
        ("tab-indent", "subject: x\n\tdate: 2018-01-01\n", "x.yaml:2:"),
        ("bad-indent", "subject: x\n  date: 2018-01-01\n", "x.yaml:2:"),
        ("unclosed-flow", "subject: [unclosed\ndate: 2018-01-01\n", "x.yaml:"),
        ("unclosed-quote", 'subject: "unclosed\n', "x.yaml:"),
        ("python-tag", "subject: !!python/object/apply:os.system ['true']\n", "x.yaml:1:"),
        ("python-name-tag", "subject: !!python/name:os.system\n", "x.yaml:1:"),
        ("list-not-mapping", "- a\n- b\n", "x.yaml:1:"),
        ("scalar-not-mapping", "just text\n", "x.yaml:1:"),
        ("empty-file", "", "x.yaml:1:"),
        ("subject-encoded-crlf", 'subject: "=?utf-8?q?Hi=0D=0ABcc:_v@example.net?="\ndate: 2018-01-01\n', "x.yaml:1:"),
        ("subject-escaped-crlf", 'subject: "Hi\\r\\nBcc: v@example.net"\ndate: 2018-01-01\n', "x.yaml:1:"),
        ("subject-a-mapping", "subject: {a: 1}\ndate: 2018-01-01\n", "x.yaml:1:"),
        ("intro-vertical-tab", 'subject: x\ndate: 2018-01-01\nintro: "a\\vb"\n', "x.yaml:3:"),
        ("huge-file", "subject: " + "x" * 1_000_001 + "\n", "x.yaml"),
        ("date-huge-repr", "subject: x\ndate: " + "9" * 5000 + "\n", "x.yaml:2:"),
        ("articles-not-list", "subject: x\ndate: 2018-01-01\nintro: i\narticles: 3\n", "x.yaml:4:"),
        (
            "article-slug-traversal",
            "subject: x\ndate: 2018-01-01\nintro: i\narticles:\n  - ../../etc/passwd\n",
            "x.yaml:5:",
        ),
        (
            "article-slug-misspelt",
            "subject: x\ndate: 2018-01-01\nintro: i\narticles:\n  - county-lines-violence-survy\n",
            "did you mean 'county-lines-violence-survey'",
        ),
        ("duplicate-key-bomb", "subject: x\n" * 3 + "date: 2018-01-01\nbogus: 1\n", "unknown field 'bogus'"),
    ],
)

ARTICLES = _cases(
    "article file",
    ONE_LINE,
    [
        (
            "body-nul",
            "---\ntitle: t\ndate: 2018-01-01\nsummary: s\nurl: https://www.example.org/a\ncategory: c\n---\nText\x00here\n",
            "x-article.md:8:",
        ),
        (
            "body-vertical-tab",
            "---\ntitle: t\ndate: 2018-01-01\nsummary: s\nurl: https://www.example.org/a\ncategory: c\n---\n"
            "One\n\nTwo\x0bthree\n",
            "x-article.md:10:",
        ),
        (
            "body-escape",
            "---\ntitle: t\ndate: 2018-01-01\nsummary: s\nurl: https://www.example.org/a\ncategory: c\n---\n"
            "\x1b[31mred\n",
            "x-article.md:8:",
        ),
        (
            "body-noncharacter",
            "---\ntitle: t\ndate: 2018-01-01\nsummary: s\nurl: https://www.example.org/a\ncategory: c\n---\n"
            "Text\ufffe\n",
            "x-article.md:8: the article contains the character U+FFFE",
        ),
        ("front-matter-alias", "---\ntitle: &t T\nsummary: *t\n---\nBody\n", "x-article.md:3:"),
        ("front-matter-feb-30", "---\ntitle: t\ndate: 2018-02-30\n---\nBody\n", "x-article.md:3:"),
        ("front-matter-deep", "---\ntitle: " + "[" * 2000 + "]" * 2000 + "\n---\nBody\n", "x-article.md:2:"),
        ("front-matter-tab", "---\ntitle: t\n\tdate: 2018-01-01\n---\nBody\n", "x-article.md:3:"),
        ("no-front-matter", "Just text\n", "x-article.md:1:"),
        ("unclosed-front-matter", "---\ntitle: t\n", "x-article.md:1:"),
        (
            "url-javascript",
            "---\ntitle: t\ndate: 2018-01-01\nsummary: s\nurl: javascript:alert(1)//x\ncategory: c\n---\nB\n",
            "x-article.md:5:",
        ),
        (
            "title-newline",
            '---\ntitle: "a\\nb"\ndate: 2018-01-01\nsummary: s\nurl: https://www.example.org/a\ncategory: c\n---\nB\n',
            "x-article.md:2:",
        ),
        ("title-python-tag", "---\ntitle: !!python/object/apply:os.system ['true']\n---\nB\n", "x-article.md:2:"),
        ("not-utf8", b"---\ntitle: caf\xe9\n---\nbody\n", "x-article.md"),
        (
            "huge-body",
            "---\ntitle: t\ndate: 2018-01-01\nsummary: s\nurl: https://www.example.org/a\ncategory: c\n---\n"
            + "word " * 250_000,
            "x-article.md",
        ),
        (
            "date-a-list",
            "---\ntitle: t\ndate: [2018]\nsummary: s\nurl: https://www.example.org/a\ncategory: c\n---\nB\n",
            "x-article.md:3:",
        ),
    ],
)

TEMPLATES = _cases(
    "template",
    ONE_LINE,
    [
        ("division-by-zero", "{{ 1 / 0 }}", "newsletter.txt.j2:1:"),
        ("integer-division-by-zero", "{{ 1 // 0 }}", "newsletter.txt.j2:1:"),
        ("recursive-macro", "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "newsletter.txt.j2:1:"),
        ("bad-filter-argument", "{{ 'x' | wordwrap('a') }}", "newsletter.txt.j2:1:"),
        ("undefined-attribute", "{{ issue.no_such_field }}", "newsletter.txt.j2:1:"),
        ("unknown-filter", "{{ issue.subject | nosuchfilter }}", "newsletter.txt.j2:1:"),
        ("syntax-error", "{% if %}", "newsletter.txt.j2:1:"),
        ("format-type-error", "{{ '%d' | format('x') }}", "newsletter.txt.j2:1:"),
        ("none-call", "{{ none() }}", "newsletter.txt.j2:1:"),
        ("missing-include", "{% include 'partials/nope.txt.j2' %}", "nope.txt.j2"),
    ],
)

SUBSCRIBER_CSV = _cases(
    "subscriber CSV",
    ONE_LINE,
    [
        (
            "no-email-column",
            "mail,first_name\na@example.org,A\n",
            "list.csv:1: no 'email' column in the header; found: 'mail'",
        ),
        ("empty-file", "", "list.csv"),
        ("field-over-limit-in-header", "email," + "x" * 200_000 + "\n", "list.csv:1:"),
        (
            "field-over-limit-in-row",
            'email,first_name,consented_at\n"' + "x" * 200_000 + '",A,2018-01-01\n',
            "list.csv:2:",
        ),
        ("not-utf8", b"email,first_name,consented_at\na@example.org,Zo\xeb,2018-01-01\n", "list.csv:2:"),
        ("bom-only", "\ufeff\n\n", "list.csv: the subscriber list is empty"),
    ],
) + _cases(
    "subscriber CSV row",
    ROW_SKIPPED,
    [
        (
            "crlf-in-address",
            'email,first_name,consented_at\n"a@example.org\r\nBcc: v@example.net",A,2018-01-01\n',
            "invalid address",
        ),
        (
            "two-addresses",
            'email,first_name,consented_at\n"a@example.org, b@example.org",A,2018-01-01\n',
            "invalid address",
        ),
        ("non-ascii-address", "email,first_name,consented_at\n\u00fc@example.org,A,2018-01-01\n", "invalid address"),
        ("formula-address", 'email,first_name,consented_at\n=HYPERLINK("x"),A,2018-01-01\n', "invalid address"),
        ("impossible-consent-date", "email,first_name,consented_at\na@example.org,A,2018-02-30\n", "unreadable value"),
        ("year-zero-consent", "email,first_name,consented_at\na@example.org,A,0000-01-01\n", "unreadable value"),
        ("markup-address", "email,first_name,consented_at\n[/]@example.org,A,2018-01-01\n", "invalid address"),
    ],
)

SUPPRESSION_CSV = _cases(
    "suppression CSV",
    ONE_LINE,
    [
        (
            "no-email-column",
            "address,reason\na@example.org,manual\n",
            "s.csv:1: no 'email' column in the header; found: 'address'",
        ),
        ("bad-reason", "email,reason\na@example.org,=cmd\n", "s.csv:2:"),
        ("bad-address", "email,reason\n=HYPERLINK(1),manual\n", "s.csv:2:"),
        ("crlf-address", 'email,reason\n"a@example.org\r\nBcc: v@example.net",manual\n', "s.csv:"),
        ("impossible-date", "email,reason,created_at\na@example.org,manual,2018-02-30\n", "s.csv:2:"),
        ("field-over-limit", 'email,detail\na@example.org,"' + "x" * 200_000 + '"\n', "s.csv:"),
        ("not-utf8", b"email,reason\nz\xeb@example.org,manual\n", "s.csv"),
        ("unclosed-quote", 'email,reason\n"a@example.org,manual\n', "s.csv:"),
        ("empty", "", "s.csv:1:"),
        ("header-only-wrong", "\ufeff;;;\n", "s.csv:1:"),
    ],
)

# Raw messages placed before a good hard bounce in one mbox: the good one must still count.
BOUNCES = _cases(
    "bounce mailbox",
    SKIPPED_AND_GOES_ON,
    [
        (
            "unknown-charset",
            "From: mailer-daemon@example.net\nContent-Type: text/plain; charset=x-no-such\n"
            "X-Failed-Recipients: a@example.org\n\n550 5.1.1 no such user\n",
        ),
        (
            "eight-bit-headers",
            "From: mailer-daemon@example.net\nSubject: caf\udce9\nX-Failed-Recipients: b\udce9@example.org\n\n"
            "550 5.1.1\n",
        ),
        (
            "deep-mime",
            "From: x@example.net\nContent-Type: multipart/mixed; boundary=b\n\n"
            + "".join("--b\nContent-Type: multipart/mixed; boundary=b\n\n" for _ in range(1500))
            + "x\n",
        ),
        (
            "report-without-fields",
            "From: x@example.net\nContent-Type: multipart/report; report-type=delivery-status;"
            " boundary=z\n\n--z\nContent-Type: message/delivery-status\n\n--z--\n",
        ),
        (
            "status-with-markup",
            "From: x@example.net\nX-Failed-Recipients: c@example.org\n\n550 5.1.1 [/] [bold]x :smile:\n",
        ),
        (
            "recipient-crlf",
            "From: x@example.net\nX-Failed-Recipients: =?utf-8?q?d@example.org=0D=0ABcc:_v@example.net?=\n\n550 5.1.1\n",
        ),
        (
            "two-from-unsubscribe",
            "From: a@example.org, b@example.org\nTo: unsubscribe@example.org\nSubject: unsubscribe\n\nx\n",
        ),
        ("no-headers", "\n\n\n"),
        (
            "binary-garbage",
            "From: x@example.net\nContent-Transfer-Encoding: base64\nContent-Type: text/plain\n\n%%%%\n",
        ),
        ("huge-header", "From: x@example.net\nX-Failed-Recipients: " + "a" * 100_000 + "@example.org\n\n550 5.1.1\n"),
        (
            "bad-base64-dsn",
            "From: x@example.net\nContent-Type: multipart/report; report-type=delivery-status; boundary=z\n\n"
            "--z\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n!!!!\n--z--\n",
        ),
        ("nul-in-body", "From: x@example.net\nX-Failed-Recipients: e@example.org\n\n550 5.1.1 \x00\x00\n"),
    ],
)

# (method, path, query, body, content type)
WEB = _cases(
    "web request",
    NOT_500,
    [
        ("twelve-query-fields", ("GET", "/newsletter/unsubscribe", "&".join(f"f{i}=x" for i in range(12)), b"", "")),
        ("hundred-query-fields", ("GET", "/newsletter/unsubscribe", "&".join(f"f{i}=x" for i in range(100)), b"", "")),
        ("forged-token", ("GET", "/newsletter/unsubscribe", "token=AAAA", b"", "")),
        ("script-in-token", ("GET", "/newsletter/unsubscribe", "token=%3Cscript%3Ealert(1)%3C/script%3E", b"", "")),
        ("script-in-path", ("GET", "/%3Cscript%3Ealert(1)%3C/script%3E", "", b"", "")),
        ("traversal-path", ("GET", "/../../etc/passwd", "", b"", "")),
        ("post-huge-length", ("POST", "/newsletter/unsubscribe", "", b"x", "application/x-www-form-urlencoded")),
        (
            "post-bad-utf8",
            ("POST", "/newsletter/unsubscribe", "", b"token=\xff\xfe", "application/x-www-form-urlencoded"),
        ),
        (
            "post-broken-multipart",
            ("POST", "/newsletter/unsubscribe", "", b"--z\r\nnonsense", "multipart/form-data; boundary=z"),
        ),
        ("post-multipart-no-boundary", ("POST", "/newsletter/unsubscribe", "", b"x", "multipart/form-data")),
        (
            "post-many-fields",
            (
                "POST",
                "/newsletter/unsubscribe",
                "",
                "&".join(f"f{i}=x" for i in range(200)).encode(),
                "application/x-www-form-urlencoded",
            ),
        ),
        ("method-delete", ("DELETE", "/newsletter/unsubscribe", "", b"", "")),
        ("method-garbage", ("\r\nX", "/newsletter/unsubscribe", "", b"", "")),
        ("query-bad-percent", ("GET", "/newsletter/unsubscribe", "token=%ZZ%", b"", "")),
        ("query-nul", ("GET", "/newsletter/unsubscribe", "token=%00", b"", "")),
    ],
)

CSV_EXPORT = _cases(
    "CSV export cell",
    NO_FORMULA,
    [
        ("equals", "=1+1"),
        ("plus", "+1"),
        ("minus", "-1"),
        ("at", "@SUM(A1)"),
        ("tab", "\t=1"),
        ("cr", "\r=1"),
        ("lf", "\n=1"),
        ("hyperlink", '=HYPERLINK("https://evil.example.net","click")'),
        ("dde", "=cmd|' /C calc'!A0"),
        ("fullwidth-equals", "\uff1d1+1"),
        ("quoted-formula", "'=1"),
        ("relay-reply", "-ERR 550 mailbox unavailable"),
        ("address-with-plus", "+44@example.org"),
    ],
)

TERMINAL = _cases(
    "terminal output",
    TEXT,
    [
        ("closing-tag", "[/]"),
        ("bold", "[bold red]x[/]"),
        ("link", "[link=https://evil.example.net]click[/link]"),
        ("emoji", ":smile:"),
        ("escape-clear", "\x1b[2J"),
        ("osc-hyperlink", "\x1b]8;;https://evil.example.net\x07x"),
        ("bell", "\x07"),
        ("backspace", "abc\x08\x08\x08xyz"),
        ("rtl-override", "\u202eevil"),
        ("nul", "a\x00b"),
        ("carriage-return", "safe\rEVIL"),
        ("unbalanced", "[bold"),
    ],
)

TEST_ADDRESSES = _cases(
    "--to",
    ONE_LINE,
    [
        ("non-ascii", "\u00fc@example.org"),
        ("two-commas", "a@example.org, b@example.org"),
        ("crlf-bcc", "a@example.org\r\nBcc: v@example.net"),
        ("display-name", "Press <press@example.org>"),
        ("semicolon", "press@example.org;b@example.org"),
        ("no-domain", "press@"),
        ("empty", ""),
        ("markup", "[/]@example.org"),
    ],
)

ALL = (
    HEADERS
    + DISPLAY_NAMES
    + SETTINGS
    + DKIM
    + ISSUE_YAML
    + ARTICLES
    + TEMPLATES
    + SUBSCRIBER_CSV
    + SUPPRESSION_CSV
    + BOUNCES
    + WEB
    + CSV_EXPORT
    + TERMINAL
    + TEST_ADDRESSES
)

# The signup form (`POST /subscribe`): fields over a good signup. Contract: NOT_500, and every
# confirmation email written has exactly one To address and no header made from the form.
SIGNUP = _cases(
    "signup form",
    NOT_500,
    [
        ("email-crlf-bcc", {"email": "reader@example.org\r\nBcc: victim@example.net"}),
        ("email-two-addresses", {"email": "reader@example.org, victim@example.net"}),
        ("email-display-name", {"email": "Reader <reader@example.org>"}),
        ("email-non-ascii", {"email": "\u00fc@example.org"}),
        ("email-encoded-word", {"email": "=?utf-8?q?reader=0D=0ABcc:_v@example.net?=@example.org"}),
        ("email-formula", {"email": '=HYPERLINK("https://evil.example.net")@example.org'}),
        ("email-huge", {"email": "a" * 5000 + "@example.org"}),
        ("email-nul", {"email": "reader\x00@example.org"}),
        ("name-crlf-bcc", {"first_name": "Ann\r\nBcc: victim@example.net"}),
        ("name-quotes-commas", {"first_name": 'Smith\\" <attacker@example.net>, "Jones'}),
        ("name-script", {"first_name": "<script>alert(1)</script>"}),
        ("name-markup", {"first_name": "[/] [bold]x :smile:"}),
        ("name-encoded-word", {"first_name": "=?utf-8?q?x=0D=0ABcc:_v@example.net?="}),
        ("name-huge", {"first_name": "A" * 10_000, "last_name": "B" * 10_000}),
        ("name-rtl-override", {"first_name": "\u202eevil"}),
        ("ward-script", {"ward": "<img src=x onerror=alert(1)>"}),
        ("topics-unknown", {"topics": "<script>alert(1)</script>"}),
        ("consent-version-crlf", {"consent_version": "2026\r\nBcc: v@example.net"}),
        ("form-field-script", {"form": "<script>alert(1)</script>"}),
        ("no-consent", {"consent": "no"}),
        ("honeypot-filled", {"website": "https://spam.example.net"}),
    ],
)

# The preference centre (`/preferences`): a forged token, or hostile fields with a real one.
PREFERENCES = _cases(
    "preference centre",
    NOT_500,
    [
        ("forged-token-get", ("GET", "token=AAAA.BBBB", {})),
        ("script-token-get", ("GET", "token=%3Cscript%3Ealert(1)%3C/script%3E", {})),
        ("no-token-post", ("POST", "", {"action": "save"})),
        ("unsubscribe-token-reused", ("POST", "token=unsubscribe-token", {"action": "save"})),
        ("name-crlf", ("POST", "REAL", {"action": "save", "first_name": "Ann\r\nBcc: victim@example.net"})),
        ("name-script", ("POST", "REAL", {"action": "save", "first_name": "<script>alert(1)</script>"})),
        ("ward-not-listed", ("POST", "REAL", {"action": "save", "ward": "<img src=x onerror=alert(1)>"})),
        ("topics-forged", ("POST", "REAL", {"action": "save", "topics": "admin"})),
        ("action-unknown", ("POST", "REAL", {"action": "<script>alert(1)</script>"})),
        ("name-huge", ("POST", "REAL", {"action": "save", "first_name": "A" * 10_000})),
    ],
)

ALL = ALL + SIGNUP + PREFERENCES

# Feed import (`newsletter import FEED`): RSS items with hostile parts. Contract: exit 0 or one
# line and exit 2; nothing written outside articles/; every article written loads back as a
# valid article, with no field made from markup or a line break, and no link that is not http(s).
FEED_ITEM = (
    "<item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate>"
    "<description>{description}</description><category>{category}</category></item>"
)
FEED = _cases(
    "feed import",
    ONE_LINE,
    [
        ("title-front-matter-close", {"title": "Hi\n---\nurl: javascript:alert(1)\n---"}),
        ("title-yaml-alias", {"title": "*a &amp;b !!python/object:os.system"}),
        ("title-crlf", {"title": "Hi&#13;&#10;Bcc: victim@example.net"}),
        ("title-markup", {"title": "[/] [bold]x :smile:"}),
        ("title-script", {"title": "&lt;script&gt;alert(1)&lt;/script&gt;"}),
        ("title-huge", {"title": "Stockport " * 2000}),
        ("title-empty", {"title": ""}),
        ("link-javascript", {"link": "javascript:alert(1)"}),
        ("link-traversal", {"link": "https://www.example.org/../../../etc/passwd"}),
        ("link-slug-traversal", {"link": "https://www.example.org/news/..%2F..%2Fevil"}),
        ("link-data-uri", {"link": "data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"}),
        ("date-30-february", {"date": "Fri, 30 Feb 2018 10:00:00 +0000"}),
        ("date-year-zero", {"date": "Sat, 01 Jan 0000 00:00:00 +0000"}),
        ("date-garbage", {"date": "[/] soon"}),
        ("description-script", {"description": "&lt;script&gt;alert(1)&lt;/script&gt;Text"}),
        ("description-img-onerror", {"description": "&lt;img src=x onerror=alert(1)&gt;Text"}),
        ("description-javascript-link", {"description": '&lt;a href="javascript:alert(1)"&gt;click&lt;/a&gt;'}),
        ("description-nul", {"description": "Text &#0; more"}),
        ("description-control", {"description": "Text \x0b\x1b[2J more"}),
        ("category-yaml", {"category": "&amp;a *a: [x]"}),
        ("xml-entity-bomb", "BOMB"),
        ("xml-external-entity", "XXE"),
        ("not-xml", "NOT-XML"),
        ("deep-nesting", "DEEP"),
    ],
)

ALL = ALL + FEED

# The archive (`newsletter archive`): an issue's subject and preheader as a stranger could have
# suggested them. Contract: the pages show them as text (escaped, never evaluated as a
# template), the Atom feed and sitemap stay well-formed XML; or one line and exit 2.
ARCHIVE = _cases(
    "archive",
    NOT_500,
    [
        ("subject-script", {"subject": "<script>alert(1)</script> news"}),
        ("subject-cdata-close", {"subject": "]]></title><script>alert(1)</script>"}),
        ("subject-entities", {"subject": "Fish &amp; chips &lt;b&gt; &#x3c;"}),
        ("subject-template", {"subject": "{{ 7*7 }} {% raw %}"}),
        ("subject-rtl", {"subject": "\u202eevil news"}),
        ("preheader-script", {"preheader": "<img src=x onerror=alert(1)>"}),
        ("preheader-xml-invalid-char", {"preheader": "a\ufffeb"}),
    ],
)

ALL = ALL + ARCHIVE
