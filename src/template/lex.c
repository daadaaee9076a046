/*
 * lex.c - template text to tokens, and tag markup to markup tokens
 *
 * Two lexers. The template lexer cuts the source into text, {{ output }} and {% tag %}
 * tokens, applying whitespace control ({{- strips the text before, -}} the text after) and
 * reading raw bodies; in "lines" mode it reads the body of a {% liquid %} tag, where each
 * non-empty line is a tag. The markup lexer reads what is inside the delimiters: names,
 * strings, numbers, punctuation and comparison operators, one token of lookahead.
 * Not here: meaning (parse.c).
 *
 * Spec: Shopify Liquid's tokenizer: an output ends at the first "}}", a tag at the first
 * "%}" (quotes do not protect them); identifiers are [A-Za-z_][A-Za-z0-9_-]*\??; numbers
 * -?\d+(\.\d+)?; strings are quoted with ' or " and have no escapes.
 * Positions are 1-based lines and columns counted in characters (UTF-8 code points).
 */
#include "template/template_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/parse.h"

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Moves lx->p to `to`, keeping line and column. */
static void advance(const char *from, const char *to, int *line, int *col)
{
    for (const char *q = from; q < to; q++) {
        if (*q == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)*q & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

static const char *find2(const char *p, const char *end, char a, char b)
{
    while (p + 1 < end) {
        const char *q = memchr(p, a, (size_t)(end - p - 1));
        if (!q)
            return NULL;
        if (q[1] == b)
            return q;
        p = q + 1;
    }
    return NULL;
}

void cr__tlex_init(struct tlexer *lx, const char *src, size_t n, int line, int col, int lines)
{
    lx->src = src;
    lx->p = src;
    lx->end = src + n;
    lx->line = line;
    lx->col = col;
    lx->lstrip = 0;
    lx->lines = lines;
    lx->file = NULL;
}

static int is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* Splits "name markup" (p..end) into the tag name and its markup. */
static int split_tag(struct ttoken *tok, const char *p, const char *end, int line, int col,
                     const char *file, struct cr_err *err)
{
    const char *q;
    while (p < end && is_ws((unsigned char)*p)) {
        advance(p, p + 1, &line, &col);
        p++;
    }
    q = p;
    if (q < end && *q == '#') {
        q++;
    } else {
        while (q < end && is_word((unsigned char)*q))
            q++;
    }
    if (q == p) {
        if (p < end)
            return cr__terrf(err, CR_ESYNTAX, file, line, col, NULL,
                            "tag name expected (found '%c')", *p);
        return cr__terrf(err, CR_ESYNTAX, file, tok->line, tok->col, NULL, "tag name expected");
    }
    tok->name = p;
    tok->namelen = (size_t)(q - p);
    advance(p, q, &line, &col);
    p = q;
    while (p < end && is_ws((unsigned char)*p) && *p != '\n') {
        advance(p, p + 1, &line, &col);
        p++;
    }
    tok->p = p;
    tok->n = (size_t)(end - p);
    tok->mline = line;
    tok->mcol = col;
    return 0;
}

/* {% liquid %} bodies: one tag per non-empty line. */
static int lex_line(struct tlexer *lx, struct ttoken *tok, struct cr_err *err)
{
    for (;;) {
        const char *eol, *e;
        while (lx->p < lx->end && is_ws((unsigned char)*lx->p)) {
            advance(lx->p, lx->p + 1, &lx->line, &lx->col);
            lx->p++;
        }
        if (lx->p >= lx->end) {
            tok->kind = T_EOF;
            tok->line = lx->line;
            tok->col = lx->col;
            tok->p = lx->p;
            tok->n = 0;
            return 0;
        }
        eol = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
        if (!eol)
            eol = lx->end;
        e = eol;
        while (e > lx->p && is_ws((unsigned char)e[-1]))
            e--;
        tok->kind = T_TAG;
        tok->line = lx->line;
        tok->col = lx->col;
        if (split_tag(tok, lx->p, e, lx->line, lx->col, lx->file, err))
            return err ? err->code : CR_ESYNTAX;
        advance(lx->p, eol, &lx->line, &lx->col);
        lx->p = eol;
        return 0;
    }
}

int cr__tlex_next(struct tlexer *lx, struct ttoken *tok, struct cr_err *err)
{
    if (lx->lines)
        return lex_line(lx, tok, err);
    for (;;) {
        const char *start, *open, *close, *mb, *me;
        int var, trim_left, trim_right;
        if (lx->p >= lx->end) {
            tok->kind = T_EOF;
            tok->line = lx->line;
            tok->col = lx->col;
            tok->p = lx->p;
            tok->n = 0;
            return 0;
        }
        start = lx->p;
        open = lx->p;
        for (;;) {
            open = memchr(open, '{', (size_t)(lx->end - open));
            if (!open || open + 1 >= lx->end) {
                open = NULL;
                break;
            }
            if (open[1] == '{' || open[1] == '%')
                break;
            open++;
        }
        if (open != start) {
            /* Text up to the next tag (or the end). */
            const char *tb = start, *te = open ? open : lx->end;
            int line = lx->line, col = lx->col;
            if (lx->lstrip) {
                while (tb < te && is_ws((unsigned char)*tb))
                    tb++;
            }
            lx->lstrip = 0;
            if (open && open + 2 < lx->end && open[2] == '-') {
                while (te > tb && is_ws((unsigned char)te[-1]))
                    te--;
            }
            advance(start, tb, &line, &col);
            advance(lx->p, open ? open : lx->end, &lx->line, &lx->col);
            lx->p = open ? open : lx->end;
            if (te == tb)
                continue;
            tok->kind = T_TEXT;
            tok->p = tb;
            tok->n = (size_t)(te - tb);
            tok->line = tok->mline = line;
            tok->col = tok->mcol = col;
            return 0;
        }
        /* A tag or an output at lx->p. */
        var = open[1] == '{';
        trim_left = open + 2 < lx->end && open[2] == '-';
        mb = open + 2 + trim_left;
        close = find2(mb, lx->end, var ? '}' : '%', '}');
        tok->line = lx->line;
        tok->col = lx->col;
        if (!close)
            return cr__terrf(err, CR_ESYNTAX, lx->file, lx->line, lx->col,
                            var ? "'}}' expected" : "'%}' expected", "unterminated '%s'",
                            var ? "{{" : "{%");
        me = close;
        trim_right = me > mb && me[-1] == '-';
        if (trim_right)
            me--;
        {
            int line = lx->line, col = lx->col;
            advance(open, mb, &line, &col);
            if (var) {
                tok->kind = T_OUTPUT;
                tok->p = mb;
                tok->n = (size_t)(me - mb);
                tok->mline = line;
                tok->mcol = col;
                tok->name = NULL;
                tok->namelen = 0;
            } else {
                tok->kind = T_TAG;
                if (split_tag(tok, mb, me, line, col, lx->file, err))
                    return err ? err->code : CR_ESYNTAX;
            }
        }
        advance(lx->p, close + 2, &lx->line, &lx->col);
        lx->p = close + 2;
        lx->lstrip = trim_right;
        return 0;
    }
}

/* endraw: {%-? \s* endraw \s* -?%} at p; returns the end (past %}) or NULL. */
static const char *match_end(const char *p, const char *end, const char *word, int *trim_l,
                             int *trim_r)
{
    size_t wl = strlen(word);
    const char *q = p + 2;
    *trim_l = q < end && *q == '-';
    q += *trim_l;
    while (q < end && is_ws((unsigned char)*q))
        q++;
    if ((size_t)(end - q) < wl || memcmp(q, word, wl) != 0)
        return NULL;
    q += wl;
    if (q < end && is_word((unsigned char)*q))
        return NULL;
    while (q < end && is_ws((unsigned char)*q))
        q++;
    *trim_r = q < end && *q == '-';
    q += *trim_r;
    if (end - q < 2 || q[0] != '%' || q[1] != '}')
        return NULL;
    return q + 2;
}

int cr__tlex_raw(struct tlexer *lx, const struct ttoken *open, int trim_open,
                struct ttoken *body, struct cr_err *err)
{
    const char *p = lx->p, *b = lx->p, *e;
    int line = lx->line, col = lx->col;
    for (;;) {
        const char *q = find2(p, lx->end, '{', '%'), *after;
        int tl, tr;
        if (!q)
            return cr__terrf(err, CR_ESYNTAX, lx->file, open->line, open->col,
                            "'endraw' expected", "unterminated 'raw'");
        after = match_end(q, lx->end, "endraw", &tl, &tr);
        if (!after) {
            p = q + 2;
            continue;
        }
        e = q;
        if (trim_open) {
            while (b < e && is_ws((unsigned char)*b))
                b++;
        }
        if (tl) {
            while (e > b && is_ws((unsigned char)e[-1]))
                e--;
        }
        advance(lx->p, b, &line, &col);
        body->kind = T_TEXT;
        body->p = b;
        body->n = (size_t)(e - b);
        body->line = body->mline = line;
        body->col = body->mcol = col;
        advance(lx->p, after, &lx->line, &lx->col);
        lx->p = after;
        lx->lstrip = tr;
        return 0;
    }
}

/* ============================================================== markup lexer === */

enum cclass { CC_OTHER, CC_WS, CC_ALPHA, CC_DIGIT, CC_QUOTE, CC_PUNCT, CC_CMP, CC_MINUS };

/* The class of each byte (GNU range designators; every other byte is CC_OTHER). */
static const unsigned char cclass[256] = {
    [' '] = CC_WS,        ['\t'] = CC_WS,       ['\n'] = CC_WS,       ['\r'] = CC_WS,
    ['\f'] = CC_WS,       ['\v'] = CC_WS,       ['a' ... 'z'] = CC_ALPHA, ['A' ... 'Z'] = CC_ALPHA,
    ['_'] = CC_ALPHA,     ['0' ... '9'] = CC_DIGIT, ['\''] = CC_QUOTE,   ['"'] = CC_QUOTE,
    ['.'] = CC_PUNCT,     ['['] = CC_PUNCT,      [']'] = CC_PUNCT,      ['('] = CC_PUNCT,
    [')'] = CC_PUNCT,     ['|'] = CC_PUNCT,      [':'] = CC_PUNCT,      [','] = CC_PUNCT,
    ['='] = CC_CMP,       ['!'] = CC_CMP,        ['<'] = CC_CMP,        ['>'] = CC_CMP,
    ['-'] = CC_MINUS,
};

void cr__tmlex_init(struct mlex *m, const char *p, size_t n, int line, int col,
                   struct cr_err *err)
{
    m->p = p;
    m->end = p + n;
    m->line = line;
    m->col = col;
    m->err = err;
    m->file = NULL;
    memset(&m->cur, 0, sizeof m->cur);
}

const char *cr__tmtok_name(enum mtok k)
{
    switch (k) {
    case M_END:
        return "end of markup";
    case M_ID:
        return "name";
    case M_STR:
        return "string";
    case M_INT:
    case M_FLOAT:
        return "number";
    case M_DOT:
        return "'.'";
    case M_DOTDOT:
        return "'..'";
    case M_LBR:
        return "'['";
    case M_RBR:
        return "']'";
    case M_LP:
        return "'('";
    case M_RP:
        return "')'";
    case M_PIPE:
        return "'|'";
    case M_COLON:
        return "':'";
    case M_COMMA:
        return "','";
    case M_CMP:
        return "comparison";
    case M_ASSIGN:
        return "'='";
    }
    return "token";
}

static void mstep(struct mlex *m, size_t n)
{
    advance(m->p, m->p + n, &m->line, &m->col);
    m->p += n;
}

int cr__tmlex_next(struct mlex *m)
{
    struct mtoken *t = &m->cur;
    const char *s;
    while (m->p < m->end && cclass[(unsigned char)*m->p] == CC_WS)
        mstep(m, 1);
    s = m->p;
    t->p = s;
    t->line = m->line;
    t->col = m->col;
    t->n = 0;
    if (s >= m->end) {
        t->k = M_END;
        return 0;
    }
    switch (cclass[(unsigned char)*s]) {
    case CC_ALPHA: {
        const char *q = s + 1;
        while (q < m->end && (cclass[(unsigned char)*q] == CC_ALPHA ||
                              cclass[(unsigned char)*q] == CC_DIGIT || *q == '-'))
            q++;
        if (q < m->end && *q == '?')
            q++;
        t->n = (size_t)(q - s);
        if (t->n == 8 && memcmp(s, "contains", 8) == 0) {
            t->k = M_CMP;
            t->cmp = C_CONTAINS;
        } else {
            t->k = M_ID;
        }
        mstep(m, t->n);
        return 0;
    }
    case CC_MINUS:
        if (s + 1 >= m->end || cclass[(unsigned char)s[1]] != CC_DIGIT)
            break;
        __attribute__((fallthrough)); /* a negative number */
    case CC_DIGIT: {
        const char *q = s + (*s == '-');
        char tmp[64];
        while (q < m->end && cclass[(unsigned char)*q] == CC_DIGIT)
            q++;
        t->k = M_INT;
        if (q + 1 < m->end && *q == '.' && cclass[(unsigned char)q[1]] == CC_DIGIT) {
            q++;
            while (q < m->end && cclass[(unsigned char)*q] == CC_DIGIT)
                q++;
            t->k = M_FLOAT;
        }
        t->n = (size_t)(q - s);
        if (t->n >= sizeof tmp)
            return cr__terrf(m->err, CR_ETOOBIG, m->file, t->line, t->col, NULL,
                            "number too long");
        memcpy(tmp, s, t->n);
        tmp[t->n] = '\0';
        if (t->k == M_INT) {
            int64_t v;
            if (cr_parse_i64(tmp, t->n, &v) == 0) {
                t->i = v;
            } else {
                /* Past 64 bits: Ruby would make a bignum; crier uses a float. */
                t->k = M_FLOAT;
                t->f = strtod(tmp, NULL);
            }
        } else {
            t->f = strtod(tmp, NULL);
        }
        mstep(m, t->n);
        return 0;
    }
    case CC_QUOTE: {
        const char *q = memchr(s + 1, *s, (size_t)(m->end - s - 1));
        if (!q)
            return cr__terrf(m->err, CR_ESYNTAX, m->file, t->line, t->col, NULL,
                            "unterminated string");
        t->k = M_STR;
        t->p = s + 1;
        t->n = (size_t)(q - s - 1);
        mstep(m, (size_t)(q + 1 - s));
        return 0;
    }
    case CC_PUNCT:
        t->n = 1;
        switch (*s) {
        case '.':
            if (s + 1 < m->end && s[1] == '.') {
                t->k = M_DOTDOT;
                t->n = 2;
            } else {
                t->k = M_DOT;
            }
            break;
        case '[':
            t->k = M_LBR;
            break;
        case ']':
            t->k = M_RBR;
            break;
        case '(':
            t->k = M_LP;
            break;
        case ')':
            t->k = M_RP;
            break;
        case '|':
            t->k = M_PIPE;
            break;
        case ':':
            t->k = M_COLON;
            break;
        default:
            t->k = M_COMMA;
            break;
        }
        mstep(m, t->n);
        return 0;
    case CC_CMP: {
        char c0 = s[0], c1 = s + 1 < m->end ? s[1] : '\0';
        t->k = M_CMP;
        t->n = 2;
        if (c0 == '=' && c1 == '=')
            t->cmp = C_EQ;
        else if (c0 == '!' && c1 == '=')
            t->cmp = C_NE;
        else if (c0 == '<' && c1 == '>')
            t->cmp = C_NE;
        else if (c0 == '<' && c1 == '=')
            t->cmp = C_LE;
        else if (c0 == '>' && c1 == '=')
            t->cmp = C_GE;
        else if (c0 == '<' || c0 == '>') {
            t->n = 1;
            t->cmp = c0 == '<' ? C_LT : C_GT;
        } else if (c0 == '=') {
            t->n = 1;
            t->k = M_ASSIGN;
        } else {
            break;
        }
        mstep(m, t->n);
        return 0;
    }
    default:
        break;
    }
    if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
        return cr__terrf(m->err, CR_ESYNTAX, m->file, t->line, t->col, NULL,
                        "unexpected character '%c'", *s);
    return cr__terrf(m->err, CR_ESYNTAX, m->file, t->line, t->col, NULL,
                    "unexpected byte 0x%02X", (unsigned char)*s);
}

int cr__tmlex_peek(const struct mlex *m, struct mtoken *out)
{
    struct mlex copy = *m;
    int rc;
    copy.err = NULL;
    rc = cr__tmlex_next(&copy);
    *out = copy.cur;
    if (rc)
        out->k = M_END;
    return rc;
}
