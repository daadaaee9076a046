/*
 * lex.c - the filter language's lexer: UTF-8 text to tokens, one token of lookahead
 *
 * Does not know the grammar or the schema. Rejects up front what no filter may hold (NUL
 * bytes, invalid UTF-8, text over the size limit), so later stages see clean text. Columns
 * count characters, not bytes. There are no comments: `--` is two minus signs, and nothing
 * of the text is ever copied into SQL (strings become parameters).
 *
 * Spec: docs/filter-language.md §Lexical structure.
 */
#include "query/query_int.h"

#include <stdio.h>
#include <string.h>

#include "core/datetime.h"
#include "core/parse.h"
#include "core/utf8.h"

/* Character classes, one per byte [SQLite aiClass]. */
enum cc {
    CC_ILLEGAL,
    CC_SPACE,
    CC_NL, /* \n, \r (and \r\n counts once) */
    CC_DIGIT,
    CC_ALPHA, /* A-Z a-z _ */
    CC_QUOTE,
    CC_DQUOTE,
    CC_LPAREN,
    CC_RPAREN,
    CC_COMMA,
    CC_DOT,
    CC_PLUS,
    CC_MINUS,
    CC_STAR,
    CC_SLASH,
    CC_EQ,
    CC_LT,
    CC_GT,
    CC_BANG,
    CC_HIGH, /* 0x80-0xFF: UTF-8, allowed only inside quotes */
};

#define IL CC_ILLEGAL
#define SP CC_SPACE
#define NL CC_NL
#define DG CC_DIGIT
#define AL CC_ALPHA
#define HI CC_HIGH
#define QU CC_QUOTE
#define DQ CC_DQUOTE
#define LP CC_LPAREN
#define RP CC_RPAREN
#define CO CC_COMMA
#define DO CC_DOT
#define PL CC_PLUS
#define MI CC_MINUS
#define ST CC_STAR
#define SL CC_SLASH
#define EQ CC_EQ
#define LT CC_LT
#define GT CC_GT
#define BA CC_BANG
/* clang-format off */
static const unsigned char cclass[256] = {
    /*       0   1   2   3   4   5   6   7   8   9   a   b   c   d   e   f */
    /* 0x */ IL, IL, IL, IL, IL, IL, IL, IL, IL, SP, NL, SP, SP, NL, IL, IL,
    /* 1x */ IL, IL, IL, IL, IL, IL, IL, IL, IL, IL, IL, IL, IL, IL, IL, IL,
    /* 2x */ SP, BA, DQ, IL, IL, IL, IL, QU, LP, RP, ST, PL, CO, MI, DO, SL,
    /* 3x */ DG, DG, DG, DG, DG, DG, DG, DG, DG, DG, IL, IL, LT, EQ, GT, IL,
    /* 4x */ IL, AL, AL, AL, AL, AL, AL, AL, AL, AL, AL, AL, AL, AL, AL, AL,
    /* 5x */ AL, AL, AL, AL, AL, AL, AL, AL, AL, AL, AL, IL, IL, IL, IL, AL,
    /* 6x */ IL, AL, AL, AL, AL, AL, AL, AL, AL, AL, AL, AL, AL, AL, AL, AL,
    /* 7x */ AL, AL, AL, AL, AL, AL, AL, AL, AL, AL, AL, IL, IL, IL, IL, IL,
    /* 8x */ HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI,
    /* 9x */ HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI,
    /* ax */ HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI,
    /* bx */ HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI,
    /* cx */ HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI,
    /* dx */ HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI,
    /* ex */ HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI,
    /* fx */ HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI, HI,
};
/* clang-format on */
#undef IL
#undef SP
#undef NL
#undef DG
#undef AL
#undef HI
#undef QU
#undef DQ
#undef LP
#undef RP
#undef CO
#undef DO
#undef PL
#undef MI
#undef ST
#undef SL
#undef EQ
#undef LT
#undef GT
#undef BA

/* The longest string, name or number token, in bytes [Lua "lexical element too long"]. */
#define MAX_TOKEN (64 * 1024)

static const char *const tok_names[] = {
    /* ORDER: enum tok */
    "end of filter",
    "name",
    "quoted name",
    "string",
    "integer",
    "decimal",
    "duration",
    "(",
    ")",
    ",",
    ".",
    "+",
    "-",
    "*",
    "/",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "and",
    "or",
    "not",
    "is",
    "null",
    "in",
    "like",
    "ilike",
    "between",
    "true",
    "false",
    "date",
    "timestamp",
    "interval",
};

static const struct {
    const char *word;
    enum tok kind;
} keywords[] = {
    {"and", TK_AND},
    {"or", TK_OR},
    {"not", TK_NOT},
    {"is", TK_IS},
    {"null", TK_NULL},
    {"in", TK_IN},
    {"like", TK_LIKE},
    {"ilike", TK_ILIKE},
    {"between", TK_BETWEEN},
    {"true", TK_TRUE},
    {"false", TK_FALSE},
    {"date", TK_DATE},
    {"timestamp", TK_TIMESTAMP},
    {"interval", TK_INTERVAL},
};

const char *cr__tok_name(enum tok k)
{
    return tok_names[k];
}

const char *cr__tok_describe(const struct token *t, char *buf, size_t size)
{
    size_t n = t->raw.len;
    const char *dots = "";
    if (t->kind == TK_EOF) {
        snprintf(buf, size, "the end of the filter");
        return buf;
    }
    if (n > 32) {
        /* Cut on a character boundary. */
        n = 32;
        while (n > 0 && ((unsigned char)t->raw.ptr[n] & 0xC0) == 0x80)
            n--;
        dots = "...";
    }
    if (t->kind == TK_STRING)
        snprintf(buf, size, "string %.*s%s", (int)n, t->raw.ptr, dots);
    else
        snprintf(buf, size, "'%.*s%s'", (int)n, t->raw.ptr, dots);
    return buf;
}

/* Advances over one byte of the current line. Continuation bytes of UTF-8 do not count as
 * columns, so columns are characters. */
static void advance(struct lexer *lx)
{
    unsigned char c = (unsigned char)*lx->p++;
    if ((c & 0xC0) != 0x80)
        lx->col++;
}

static void newline(struct lexer *lx)
{
    if (*lx->p == '\r' && lx->p + 1 < lx->end && lx->p[1] == '\n')
        lx->p++;
    lx->p++;
    lx->line++;
    lx->col = 1;
}

/* Line and column of byte offset off in src (len bytes), for checks made before lexing. */
static void position_of(const char *src, size_t len, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        if (src[i] == '\r' && i + 1 < len && src[i + 1] == '\n')
            continue; /* \r\n is one line break, counted at the \n */
        if (src[i] == '\n' || src[i] == '\r') {
            l++;
            c = 1;
        } else if (((unsigned char)src[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* cr_duration_parse() multiplies without overflow checks: keep every number and the sum far
 * inside int64 (at most 8 numbers of at most 6 digits: 8 * 999999 weeks < 5e18 us). */
static int duration_in_range(const char *s, size_t n)
{
    int groups = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            if (digits == 0)
                groups++;
            if (++digits > 6 || groups > 8)
                return 0;
        } else {
            digits = 0;
        }
    }
    return 1;
}

int cr__lex_duration(struct cr__qctx *q, const char *s, size_t n, int line, int col, int64_t *usec)
{
    struct cr_err e = CR_ERR_INIT;
    int shown = (int)(n > 40 ? 40 : n);
    if (!duration_in_range(s, n))
        return cr__qerr(q, CR_ETOOBIG, line, col,
                        "duration '%.*s' is out of range (at most 999999 of a unit)", shown, s);
    /* cr_duration_parse() may read a byte past a unit: give it a terminated copy. */
    if (cr_duration_parse(cr__arena_strndup(&q->arena, s, n), n, usec, &e))
        return cr__qerr(q, CR_ESYNTAX, line, col, "%s", e.msg);
    if (*usec > CR__MAX_OFFSET_USEC)
        return cr__qerr(q, CR_ETOOBIG, line, col,
                        "duration '%.*s' is out of range (at most 10000 years)", shown, s);
    return 0;
}

/* 'text' with '' for a quote. May span lines. */
static int lex_string(struct lexer *lx, struct token *t, char quote)
{
    struct cr_buf v = CR_BUF_INIT(MAX_TOKEN);
    int line = t->line, col = t->col;
    advance(lx); /* the opening quote */
    for (;;) {
        if (lx->p >= lx->end) {
            cr_buf_release(&v);
            return cr__qerr(lx->q, CR_ESYNTAX, line, col,
                            quote == '\'' ? "unterminated string (no closing ')"
                                          : "unterminated quoted name (no closing \")");
        }
        if (*lx->p == quote) {
            if (lx->p + 1 < lx->end && lx->p[1] == quote) {
                cr_buf_putc(&v, quote);
                advance(lx);
                advance(lx);
                continue;
            }
            advance(lx);
            break;
        }
        if (cclass[(unsigned char)*lx->p] == CC_NL) {
            const char *s = lx->p;
            newline(lx);
            cr_buf_append(&v, s, (size_t)(lx->p - s));
            continue;
        }
        cr_buf_putc(&v, *lx->p);
        advance(lx);
    }
    if (v.err) {
        cr_buf_release(&v);
        return cr__qerr(lx->q, CR_ETOOBIG, line, col, "%s is too long (more than %d bytes)",
                        quote == '\'' ? "string" : "quoted name", MAX_TOKEN);
    }
    t->s = cr__arena_strndup(&lx->q->arena, v.data, v.len);
    t->slen = v.len;
    cr_buf_release(&v);
    return 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A number, a decimal or a duration: a run of digits, letters, '_' and '.', classified
 * afterwards, so `30x` is one bad token rather than 30 followed by a name. */
static int lex_number(struct lexer *lx, struct token *t)
{
    const char *s = lx->p;
    size_t n, i = 0, dots = 0, alphas = 0;
    while (lx->p < lx->end) {
        enum cc c = (enum cc)cclass[(unsigned char)*lx->p];
        if (c != CC_DIGIT && c != CC_ALPHA && c != CC_DOT)
            break;
        advance(lx);
    }
    n = (size_t)(lx->p - s);
    if (n > 64)
        return cr__qerr(lx->q, CR_ETOOBIG, t->line, t->col, "number '%.32s...' is too long", s);
    for (i = 0; i < n; i++) {
        if (s[i] == '.')
            dots++;
        else if (!is_digit(s[i]))
            alphas++;
    }
    if (!alphas && !dots) {
        t->kind = TK_INTEGER;
        if (cr_parse_i64(s, n, &t->i))
            return cr__qerr(lx->q, CR_EINVAL, t->line, t->col,
                            "integer %.*s is out of range (at most 9223372036854775807)", (int)n,
                            s);
        return 0;
    }
    if (!alphas && dots == 1 && n > 1) {
        t->kind = TK_DECIMAL;
        if (cr_parse_double(s, n, &t->d))
            return cr__qerr(lx->q, CR_ESYNTAX, t->line, t->col, "bad decimal '%.*s'", (int)n, s);
        return 0;
    }
    if (!dots && is_digit(s[0]) && !is_digit(s[n - 1])) {
        t->kind = TK_DURATION;
        /* digits then letters, repeated: 30d, 1d12h */
        for (i = 0; i < n;) {
            size_t d0 = i, a0;
            while (i < n && is_digit(s[i]))
                i++;
            a0 = i;
            while (i < n && !is_digit(s[i]) && s[i] != '_')
                i++;
            if (a0 == d0 || i == a0 || (i < n && s[i] == '_'))
                break;
        }
        if (i == n) {
            struct cr_err e = CR_ERR_INIT;
            if (!duration_in_range(s, n) ||
                (cr_duration_parse(cr__arena_strndup(&lx->q->arena, s, n), n, &t->i, &e) == 0 &&
                 t->i > CR__MAX_OFFSET_USEC))
                return cr__lex_duration(lx->q, s, n, t->line, t->col, &t->i); /* the message */
            if (e.code == 0)
                return 0;
        }
        return cr__qerr(lx->q, CR_ESYNTAX, t->line, t->col,
                        "bad duration '%.*s' (units: s, m, h, d, w, as in 30d or 1d12h; months "
                        "and years vary in length)",
                        (int)n, s);
    }
    return cr__qerr(lx->q, CR_ESYNTAX, t->line, t->col, "bad number '%.*s'", (int)n, s);
}

static int lex_word(struct lexer *lx, struct token *t)
{
    const char *s = lx->p;
    size_t n;
    char *low;
    while (lx->p < lx->end) {
        enum cc c = (enum cc)cclass[(unsigned char)*lx->p];
        if (c != CC_ALPHA && c != CC_DIGIT)
            break;
        advance(lx);
    }
    n = (size_t)(lx->p - s);
    if (n > MAX_TOKEN)
        return cr__qerr(lx->q, CR_ETOOBIG, t->line, t->col, "name '%.32s...' is too long", s);
    for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++)
        if (strlen(keywords[i].word) == n && strncasecmp(keywords[i].word, s, n) == 0) {
            t->kind = keywords[i].kind;
            return 0;
        }
    /* Unquoted names fold to lower case, as in SQL; the catalogue's names are lower case. */
    low = cr__arena_strndup(&lx->q->arena, s, n);
    for (size_t i = 0; i < n; i++)
        if (low[i] >= 'A' && low[i] <= 'Z')
            low[i] = (char)(low[i] - 'A' + 'a');
    t->kind = TK_IDENT;
    t->s = low;
    t->slen = n;
    return 0;
}

/* Characters that are not the language, with what the user probably meant. */
static int lex_illegal(struct lexer *lx, struct token *t)
{
    unsigned char c = (unsigned char)*lx->p;
    char shown[8];
    const char *hint = "";
    if (c >= 0x80) {
        size_t k = cr_utf8_seq_len(lx->p, (size_t)(lx->end - lx->p));
        memcpy(shown, lx->p, k);
        shown[k] = '\0';
        hint = " (names are ASCII; text goes in single quotes)";
    } else if (c < 0x20 || c == 0x7F) {
        snprintf(shown, sizeof shown, "\\x%02x", c);
    } else {
        shown[0] = (char)c;
        shown[1] = '\0';
        switch (c) {
        case ';':
            hint = " (a filter is a single expression)";
            break;
        case '&':
            hint = " (use 'and')";
            break;
        case '|':
            hint = " (use 'or')";
            break;
        case '?':
        case '$':
        case ':':
            hint = " (write values in the filter itself)";
            break;
        case '`':
        case '[':
            hint = " (quote names with \")";
            break;
        case '%':
            hint = " (% is a wildcard only inside like patterns)";
            break;
        }
    }
    (void)t;
    return cr__qerr(lx->q, CR_ESYNTAX, t->line, t->col, "unexpected character '%s'%s", shown, hint);
}

static int lex_token(struct lexer *lx, struct token *t)
{
    int rc = 0;
    memset(t, 0, sizeof *t);
    for (;;) {
        if (lx->p >= lx->end) {
            t->kind = TK_EOF;
            t->line = lx->line;
            t->col = lx->col;
            t->raw.ptr = lx->p;
            return 0;
        }
        if (cclass[(unsigned char)*lx->p] == CC_SPACE)
            advance(lx);
        else if (cclass[(unsigned char)*lx->p] == CC_NL)
            newline(lx);
        else
            break;
    }
    t->line = lx->line;
    t->col = lx->col;
    t->raw.ptr = lx->p;
    switch ((enum cc)cclass[(unsigned char)*lx->p]) {
    case CC_DIGIT:
        rc = lex_number(lx, t);
        break;
    case CC_DOT:
        if (lx->p + 1 < lx->end && is_digit(lx->p[1])) {
            rc = lex_number(lx, t);
        } else {
            advance(lx);
            t->kind = TK_DOT;
        }
        break;
    case CC_ALPHA:
        rc = lex_word(lx, t);
        break;
    case CC_QUOTE:
        t->kind = TK_STRING;
        rc = lex_string(lx, t, '\'');
        break;
    case CC_DQUOTE:
        t->kind = TK_QIDENT;
        rc = lex_string(lx, t, '"');
        if (rc == 0 && t->slen == 0)
            rc = cr__qerr(lx->q, CR_ESYNTAX, t->line, t->col, "empty quoted name");
        break;
    case CC_LPAREN:
        advance(lx);
        t->kind = TK_LPAREN;
        break;
    case CC_RPAREN:
        advance(lx);
        t->kind = TK_RPAREN;
        break;
    case CC_COMMA:
        advance(lx);
        t->kind = TK_COMMA;
        break;
    case CC_PLUS:
        advance(lx);
        t->kind = TK_PLUS;
        break;
    case CC_MINUS:
        advance(lx);
        t->kind = TK_MINUS;
        break;
    case CC_STAR:
        advance(lx);
        t->kind = TK_STAR;
        break;
    case CC_SLASH:
        advance(lx);
        t->kind = TK_SLASH;
        break;
    case CC_EQ:
        advance(lx);
        t->kind = TK_EQ;
        if (lx->p < lx->end && *lx->p == '=')
            rc = cr__qerr(lx->q, CR_ESYNTAX, t->line, t->col, "'==' is not an operator (use '=')");
        break;
    case CC_LT:
        advance(lx);
        t->kind = TK_LT;
        if (lx->p < lx->end && *lx->p == '=') {
            advance(lx);
            t->kind = TK_LE;
        } else if (lx->p < lx->end && *lx->p == '>') {
            advance(lx);
            t->kind = TK_NE;
        }
        break;
    case CC_GT:
        advance(lx);
        t->kind = TK_GT;
        if (lx->p < lx->end && *lx->p == '=') {
            advance(lx);
            t->kind = TK_GE;
        }
        break;
    case CC_BANG:
        advance(lx);
        t->kind = TK_NE;
        if (lx->p >= lx->end || *lx->p != '=')
            rc = cr__qerr(lx->q, CR_ESYNTAX, t->line, t->col,
                          "'!' is not an operator (use 'not', or '!=' to compare)");
        else
            advance(lx);
        break;
    case CC_ILLEGAL:
    case CC_HIGH:
    case CC_SPACE:
    case CC_NL:
        rc = lex_illegal(lx, t);
        break;
    }
    t->raw.len = (size_t)(lx->p - t->raw.ptr);
    return rc;
}

int cr__lex_init(struct lexer *lx, struct cr__qctx *q)
{
    size_t bad;
    const char *nul;
    int line, col;
    memset(lx, 0, sizeof *lx);
    lx->q = q;
    lx->p = q->src;
    lx->end = q->src + q->len;
    lx->line = 1;
    lx->col = 1;
    nul = memchr(q->src, '\0', q->len);
    if (nul) {
        position_of(q->src, q->len, (size_t)(nul - q->src), &line, &col);
        return cr__qerr(q, CR_ESYNTAX, line, col, "NUL byte in the filter");
    }
    if (!cr_utf8_valid(q->src, q->len, &bad)) {
        position_of(q->src, q->len, bad, &line, &col);
        return cr__qerr(q, CR_ESYNTAX, line, col, "invalid UTF-8 in the filter (byte 0x%02x)",
                        (unsigned char)q->src[bad]);
    }
    return lex_token(lx, &lx->cur);
}

int cr__lex_next(struct lexer *lx)
{
    if (lx->have_ahead) {
        lx->cur = lx->ahead;
        lx->have_ahead = 0;
        return 0;
    }
    return lex_token(lx, &lx->cur);
}

const struct token *cr__lex_peek(struct lexer *lx)
{
    if (!lx->have_ahead) {
        /* An error in the lookahead token is recorded now and reported by the parser when it
         * stops; the token reads as the end of the filter meanwhile. */
        if (lex_token(lx, &lx->ahead))
            lx->ahead.kind = TK_EOF;
        lx->have_ahead = 1;
    }
    return &lx->ahead;
}
