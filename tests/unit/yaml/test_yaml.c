/* test_yaml.c - YAML into JSON: the core schema, styles, anchors and their limits, errors with
 * positions, tags, positions of values, and loading JSON-or-YAML files */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/yaml_json.h"

/* ---- helpers ---- */

static json_t *parse_ok(const char *yaml)
{
    struct cr_err e = CR_ERR_INIT;
    json_t *v = NULL;
    int rc = cr_yaml_to_json(yaml, strlen(yaml), &v, &e);
    if (rc)
        fail_msg("unexpected error for <<%s>>: %s %d:%d %s", yaml, cr_errname(rc), e.line,
                 e.col, e.msg);
    assert_non_null(v);
    return v;
}

/* yaml parses to the value of the JSON text json (types compared too: 1 is not 1.0). */
#define assert_yaml(yaml, json) check_yaml(yaml, json, __LINE__)
static void check_yaml(const char *yaml, const char *json, int line)
{
    json_error_t je;
    json_t *want = json_loads(json, JSON_DECODE_ANY, &je), *got;
    if (!want)
        fail_msg("line %d: bad expected JSON %s: %s", line, json, je.text);
    got = parse_ok(yaml);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
        fail_msg("line %d: <<%s>> gave %s, want %s", line, yaml, g, json);
    }
    json_decref(got);
    json_decref(want);
}

/* yaml fails with code at line:col (0 = do not check) and a message containing msg. */
#define assert_yaml_err(yaml, code, line, col, msg) check_err(yaml, code, line, col, msg, __LINE__)
static void check_err(const char *yaml, int code, int line, int col, const char *msg, int at)
{
    struct cr_err e = CR_ERR_INIT;
    json_t *v = (json_t *)1;
    int rc = cr_yaml_to_json(yaml, strlen(yaml), &v, &e);
    if (rc != code || e.code != code || (line && e.line != line) || (col && e.col != col) ||
        !strstr(e.msg, msg))
        fail_msg("line %d: <<%s>> gave %s %d:%d '%s', want %s %d:%d '%s'", at, yaml,
                 cr_errname(rc), e.line, e.col, e.msg, cr_errname(code), line, col, msg);
    assert_null(v);
}

/* ---- scalars ---- */

static void test_nulls(void **state)
{
    (void)state;
    assert_yaml("~", "null");
    assert_yaml("null", "null");
    assert_yaml("Null", "null");
    assert_yaml("NULL", "null");
    assert_yaml("a:\nb: ~", "{\"a\": null, \"b\": null}"); /* empty */
    assert_yaml("{a: , b: null}", "{\"a\": null, \"b\": null}");
    assert_yaml("- \n- x", "[null, \"x\"]");
    assert_yaml("---\n", "null");
    /* not the core schema's spellings, or not plain */
    assert_yaml("nULL", "\"nULL\"");
    assert_yaml("'null'", "\"null\"");
    assert_yaml("\"~\"", "\"~\"");
    assert_yaml("''", "\"\"");
    assert_yaml("none", "\"none\"");
}

static void test_booleans(void **state)
{
    (void)state;
    assert_yaml("[true, True, TRUE]", "[true, true, true]");
    assert_yaml("[false, False, FALSE]", "[false, false, false]");
    /* YAML 1.1 booleans are strings in 1.2 (GitHub's `on:` stays a key named "on") */
    assert_yaml("[yes, no, on, off, y, n, tRUE]",
                "[\"yes\", \"no\", \"on\", \"off\", \"y\", \"n\", \"tRUE\"]");
    assert_yaml("on: push", "{\"on\": \"push\"}");
    assert_yaml("'true'", "\"true\"");
    assert_yaml("\"false\"", "\"false\"");
}

static void test_integers(void **state)
{
    json_t *v;
    (void)state;
    assert_yaml("[0, 12, -12, +7, 007, -0]", "[0, 12, -12, 7, 7, 0]");
    assert_yaml("[0o17, 0o0, 0x1F, 0xff, 0x0]", "[15, 0, 31, 255, 0]");
    v = parse_ok("[9223372036854775807, -9223372036854775808, 0x7fffffffffffffff, "
                 "0o777777777777777777777]");
    assert_true(json_integer_value(json_array_get(v, 0)) == INT64_MAX);
    assert_true(json_integer_value(json_array_get(v, 1)) == INT64_MIN);
    assert_true(json_integer_value(json_array_get(v, 2)) == INT64_MAX);
    assert_true(json_integer_value(json_array_get(v, 3)) == INT64_MAX);
    json_decref(v);
    /* not integers in the core schema: strings */
    assert_yaml("[0o8, 0x, 0xg, -0x10, 1_000, '12', 12:30, 1 2, 0b101]",
                "[\"0o8\", \"0x\", \"0xg\", \"-0x10\", \"1_000\", \"12\", \"12:30\", \"1 2\", "
                "\"0b101\"]");
    /* out of int64: an error where it is, with a hint */
    assert_yaml_err("phone: 4915112345678901234567", CR_EINVAL, 1, 8,
                    "integer 4915112345678901234567 is out of range");
    assert_yaml_err("x: 9223372036854775808", CR_EINVAL, 1, 4, "quote it");
    assert_yaml_err("x: -9223372036854775809", CR_EINVAL, 1, 4, "out of range");
    assert_yaml_err("- 0x8000000000000000", CR_EINVAL, 1, 3, "out of range");
    assert_yaml("phone: '4915112345678901234567'", "{\"phone\": \"4915112345678901234567\"}");
}

static void test_floats(void **state)
{
    json_t *v;
    (void)state;
    assert_yaml("[1.5, -.5, +1., 1e3, 6.02E+23, 1.5e-3, 0.0, -0.0, 2.]",
                "[1.5, -0.5, 1.0, 1000.0, 6.02e23, 0.0015, 0.0, -0.0, 2.0]");
    v = parse_ok("1e3");
    assert_true(json_is_real(v)); /* a float by its form, though its value is whole */
    json_decref(v);
    v = parse_ok("3.14159265358979323846264338327950288419716939937510582097494459230781640628");
    assert_true(json_is_real(v));
    assert_true(json_real_value(v) > 3.14159 && json_real_value(v) < 3.1416);
    json_decref(v);
    /* not floats: strings */
    assert_yaml("[., 1e, e3, .5.5, 1.2.3, inf, nan, 1,5, 0x1p3]",
                "[\".\", \"1e\", \"e3\", \".5.5\", \"1.2.3\", \"inf\", \"nan\", 1, 5, "
                "\"0x1p3\"]");
    /* .inf and .nan are reals in YAML but JSON (and jansson) have no such numbers */
    assert_yaml_err("x: .inf", CR_EINVAL, 1, 4, ".inf is not a number JSON can hold");
    assert_yaml_err("x: -.Inf", CR_EINVAL, 1, 4, "not a number JSON can hold");
    assert_yaml_err("x: .NaN", CR_EINVAL, 1, 4, "not a number JSON can hold");
    assert_yaml_err("x: 1e400", CR_EINVAL, 1, 4, "number 1e400 is out of range");
    assert_yaml("x: '.inf'", "{\"x\": \".inf\"}");
}

static void test_strings_and_block_scalars(void **state)
{
    (void)state;
    assert_yaml("hello world", "\"hello world\"");
    assert_yaml("'it''s'", "\"it's\"");
    assert_yaml("\"tab\\there \\u00e9 \\x41 \\\"q\\\"\"", "\"tab\\there \\u00e9 A \\\"q\\\"\"");
    assert_yaml("héllo: wörld", "{\"héllo\": \"wörld\"}");
    /* a plain scalar over several lines folds into one */
    assert_yaml("text: one\n  two\n\n  three", "{\"text\": \"one two\\nthree\"}");
    /* literal keeps line ends; folded joins lines; chomping: clip, strip (-), keep (+) */
    assert_yaml("a: |\n  line 1\n  line 2\n\nb: x", "{\"a\": \"line 1\\nline 2\\n\", \"b\": \"x\"}");
    assert_yaml("a: >\n  one\n  two\n\n  three\n", "{\"a\": \"one two\\nthree\\n\"}");
    assert_yaml("a: |-\n  x\n  y\n", "{\"a\": \"x\\ny\"}");
    assert_yaml("a: |+\n  x\n\nb: 1", "{\"a\": \"x\\n\\n\", \"b\": 1}");
    assert_yaml("a: >-\n  x\n   indented\n  y\n", "{\"a\": \"x\\n indented\\ny\"}");
    assert_yaml("a: |2\n    two more\n", "{\"a\": \"  two more\\n\"}");
    /* block scalars are strings even when they look like something else */
    assert_yaml("a: |\n  12\nb: >-\n  true", "{\"a\": \"12\\n\", \"b\": \"true\"}");
    /* NUL cannot reach crier's C strings */
    assert_yaml_err("a: \"x\\0y\"", CR_EINVAL, 1, 4, "must not contain a NUL character");
    assert_yaml_err("\"k\\0\": 1", CR_EINVAL, 1, 1, "a key must not contain a NUL");
}

static void test_keys(void **state)
{
    (void)state;
    /* a key is the scalar's text, whatever it would resolve to as a value */
    assert_yaml("1: a\ntrue: b\n~: c\n0x10: d\n1.5: e\n",
                "{\"1\": \"a\", \"true\": \"b\", \"~\": \"c\", \"0x10\": \"d\", \"1.5\": \"e\"}");
    assert_yaml("'quoted key': 1\n\"dq\": 2\n? explicit\n: 3",
                "{\"quoted key\": 1, \"dq\": 2, \"explicit\": 3}");
    assert_yaml("99999999999999999999: big\n.inf: x", "{\"99999999999999999999\": \"big\", \".inf\": \"x\"}");
    assert_yaml("<<: merge keys are not special", "{\"<<\": \"merge keys are not special\"}");
    assert_yaml_err("{[a, b]: 1}", CR_ESYNTAX, 1, 2, "a key must be a scalar, not a sequence");
    assert_yaml_err("? {a: 1}\n: x", CR_ESYNTAX, 1, 3, "a key must be a scalar, not a mapping");
}

/* ---- structure ---- */

static void test_nesting_block_and_flow(void **state)
{
    (void)state;
    assert_yaml("a:\n  b:\n    c: [1, {d: e}]\n  f:\n  - x\n  - y: z\n    w: 2\n",
                "{\"a\": {\"b\": {\"c\": [1, {\"d\": \"e\"}]}, \"f\": [\"x\", {\"y\": \"z\", "
                "\"w\": 2}]}}");
    assert_yaml("{a: [1, 2, [3, {b: c}]], 'd': {}, e: []}",
                "{\"a\": [1, 2, [3, {\"b\": \"c\"}]], \"d\": {}, \"e\": []}");
    assert_yaml("- - a\n  - b\n- - c\n", "[[\"a\", \"b\"], [\"c\"]]");
    assert_yaml("[]", "[]");
    assert_yaml("{}", "{}");
    assert_yaml("- {a: 1, b: [x, y]}\n- [ {c: d} ]\n",
                "[{\"a\": 1, \"b\": [\"x\", \"y\"]}, [{\"c\": \"d\"}]]");
    /* comments and document markers */
    assert_yaml("# leading\n--- # doc\na: 1 # trailing\n# between\nb: 2\n...\n",
                "{\"a\": 1, \"b\": 2}");
    assert_yaml("%YAML 1.2\n---\na: 1\n", "{\"a\": 1}");
}

static void test_anchors_and_aliases(void **state)
{
    (void)state;
    assert_yaml("a: &x 12\nb: *x\nc: &s hi\nd: *s\ne: &n\nf: *n",
                "{\"a\": 12, \"b\": 12, \"c\": \"hi\", \"d\": \"hi\", \"e\": null, "
                "\"f\": null}");
    assert_yaml("base: &b {retries: 3, steps: [a, b]}\nother: *b",
                "{\"base\": {\"retries\": 3, \"steps\": [\"a\", \"b\"]}, \"other\": "
                "{\"retries\": 3, \"steps\": [\"a\", \"b\"]}}");
    assert_yaml("- &l [1, 2]\n- *l\n- [*l, *l]", "[[1, 2], [1, 2], [[1, 2], [1, 2]]]");
    /* a redefined anchor: later aliases see the latest */
    assert_yaml("- &a 1\n- *a\n- &a 2\n- *a", "[1, 1, 2, 2]");
    /* an anchored key used as a value; an anchored value used as a key */
    assert_yaml("&k name: x\nlabel: *k", "{\"name\": \"x\", \"label\": \"name\"}");
    assert_yaml("keys: [&id id, &n 5]\nrow: {*id : 1, *n : 2}",
                "{\"keys\": [\"id\", 5], \"row\": {\"id\": 1, \"5\": 2}}");
    assert_yaml_err("- &m {a: 1}\n- {*m : 2}", CR_ESYNTAX, 2, 4,
                    "alias *m names a collection and cannot be a key");
    assert_yaml_err("a: 1\nb: *nope", CR_ESYNTAX, 2, 4, "unknown alias *nope");
    assert_yaml_err("b: *later\nc: &later 1", CR_ESYNTAX, 1, 4, "unknown alias *later");
    assert_yaml_err("a: &r [1, *r]", CR_ESYNTAX, 1, 11, "recursive alias");
    assert_yaml_err("a: &r {x: {y: *r}}", CR_ESYNTAX, 1, 15, "recursive alias");
}

static void test_aliases_are_copies(void **state)
{
    json_t *v, *a, *b;
    (void)state;
    v = parse_ok("a: &x {n: 1, l: [1]}\nb: *x");
    a = json_object_get(v, "a");
    b = json_object_get(v, "b");
    assert_true(a != b);
    assert_true(json_equal(a, b));
    json_object_set_new(b, "n", json_integer(2));
    json_array_append_new(json_object_get(b, "l"), json_integer(2));
    assert_int_equal(json_integer_value(json_object_get(a, "n")), 1);
    assert_int_equal(json_array_size(json_object_get(a, "l")), 1);
    json_decref(v);
}

/* ---- limits ---- */

static char *billion_laughs(void)
{
    struct cr_buf b = CR_BUF_INIT(0);
    cr_buf_puts(&b, "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (char c = 'b'; c <= 'i'; c++) {
        cr_buf_printf(&b, "%c: &%c [", c, c);
        for (int i = 0; i < 9; i++)
            cr_buf_printf(&b, "%s*%c", i ? ", " : "", c - 1);
        cr_buf_puts(&b, "]\n");
    }
    return cr_buf_detach(&b, NULL);
}

static void test_billion_laughs_stops_early(void **state)
{
    char *doc = billion_laughs();
    (void)state;
    /* 10^9 strings once expanded: the alias that crosses 100000 values fails (on line 6, the
     * first level whose expansion is that big), before anything that size is built */
    assert_yaml_err(doc, CR_ETOOBIG, 6, 0, "more than 100000 values after expanding aliases");
    free(doc);
}

/* 1 root + (n values + 1 list) + copies * (n + 1) + 1 list of copies */
static char *copies_doc(int n, int copies)
{
    struct cr_buf b = CR_BUF_INIT(0);
    cr_buf_puts(&b, "a: &a [");
    for (int i = 0; i < n; i++)
        cr_buf_printf(&b, "%s%d", i ? "," : "", i);
    cr_buf_puts(&b, "]\nb: [");
    for (int i = 0; i < copies; i++)
        cr_buf_printf(&b, "%s*a", i ? "," : "");
    cr_buf_puts(&b, "]\n");
    return cr_buf_detach(&b, NULL);
}

static void test_node_budget_boundary(void **state)
{
    char *doc;
    json_t *v;
    (void)state;
    doc = copies_doc(999, 99); /* 1 + 1000 + 1 + 99 * 1000 = 100002 values */
    assert_yaml_err(doc, CR_ETOOBIG, 2, 0, "more than 100000 values");
    free(doc);
    doc = copies_doc(999, 98); /* 99002 */
    v = parse_ok(doc);
    assert_int_equal(json_array_size(json_object_get(v, "b")), 98);
    free(doc);
    json_decref(v);
    doc = copies_doc(99997, 0); /* 1 + 99998 + 1 = 100000 exactly, without aliases */
    v = parse_ok(doc);
    free(doc);
    json_decref(v);
    doc = copies_doc(99998, 0); /* the 100001st value is the list on line 2 */
    assert_yaml_err(doc, CR_ETOOBIG, 2, 4, "more than 100000 values");
    free(doc);
}

static void test_text_budget(void **state)
{
    struct cr_buf b = CR_BUF_INIT(0);
    char *doc;
    (void)state;
    /* few values, but 100 KB strings copied 1000 times: 100 MB */
    cr_buf_puts(&b, "s: &s \"");
    for (int i = 0; i < 100000; i++)
        cr_buf_putc(&b, 'x');
    cr_buf_puts(&b, "\"\nl: &l [");
    for (int i = 0; i < 100; i++)
        cr_buf_puts(&b, i ? ",*s" : "*s");
    cr_buf_puts(&b, "]\nm: [*l, *l, *l, *l, *l, *l, *l, *l, *l, *l]\n");
    doc = cr_buf_detach(&b, NULL);
    assert_yaml_err(doc, CR_ETOOBIG, 3, 0, "MiB of text after expanding aliases");
    free(doc);
}

static void test_depth_limit(void **state)
{
    char doc[1024];
    json_t *v;
    (void)state;
    memset(doc, 0, sizeof doc);
    memset(doc, '[', 128);
    memset(doc + 128, ']', 128);
    v = parse_ok(doc);
    json_decref(v);
    memset(doc, 0, sizeof doc);
    memset(doc, '[', 300);
    memset(doc + 300, ']', 300);
    assert_yaml_err(doc, CR_ETOOBIG, 1, 129, "nesting deeper than 128 levels");
    /* aliases can stack depth too: each level wraps the previous one */
    {
        struct cr_buf b = CR_BUF_INIT(0);
        char *d;
        cr_buf_puts(&b, "a0: &a0 [1]\n");
        for (int i = 1; i < 200; i++)
            cr_buf_printf(&b, "a%d: &a%d [*a%d]\n", i, i, i - 1);
        d = cr_buf_detach(&b, NULL);
        assert_yaml_err(d, CR_ETOOBIG, 128, 0, "nesting deeper than 128 levels");
        free(d);
    }
}

/* ---- errors in the text ---- */

static void test_duplicate_keys(void **state)
{
    (void)state;
    assert_yaml_err("id: a\nname: b\nid: c\n", CR_ESYNTAX, 3, 1, "duplicate key 'id' in a mapping");
    assert_yaml_err("{a: 1, b: 2, a: 3}", CR_ESYNTAX, 1, 14, "duplicate key 'a'");
    assert_yaml_err("steps:\n  - id: x\n    when: 1\n    id: y\n", CR_ESYNTAX, 4, 5,
                    "duplicate key 'id'");
    /* the same text, differently quoted, is the same key */
    assert_yaml_err("a: 1\n'a': 2", CR_ESYNTAX, 2, 1, "duplicate key 'a'");
    assert_yaml_err("&k a: 1\n*k : 2", CR_ESYNTAX, 2, 1, "duplicate key 'a'");
    /* same key in different mappings is fine */
    assert_yaml("- id: 1\n- id: 2\n- {id: 3, x: {id: 4}}",
                "[{\"id\": 1}, {\"id\": 2}, {\"id\": 3, \"x\": {\"id\": 4}}]");
}

static void test_bad_indentation_and_syntax(void **state)
{
    (void)state;
    /* "c" is indented less than its siblings and more than its parent */
    assert_yaml_err("a:\n  b: 1\n c: 2\n", CR_ESYNTAX, 3, 2,
                    "did not find expected key (while parsing a block mapping from 1:1)");
    assert_yaml_err("steps:\n  - id: a\n - id: b\n", CR_ESYNTAX, 3, 2,
                    "did not find expected key");
    assert_yaml_err("steps:\n  - id: a\n    x: 1\n   y: 2\n", CR_ESYNTAX, 4, 4,
                    "did not find expected '-' indicator (while parsing a block collection "
                    "from 2:3)");
    assert_yaml_err("a: b: c", CR_ESYNTAX, 1, 5, "mapping values are not allowed in this context");
    assert_yaml_err("a: [1, 2\nb: 3", CR_ESYNTAX, 2, 2,
                    "did not find expected ',' or ']' (while parsing a flow sequence from 1:4)");
    assert_yaml_err("a: \"open\nb: 1\n", CR_ESYNTAX, 3, 1, "found unexpected end of stream");
    assert_yaml_err("a:\n\t- tab", CR_ESYNTAX, 2, 1, "found character that cannot start any token");
    assert_yaml_err("a: @x", CR_ESYNTAX, 1, 4, "cannot start any token");
    assert_yaml_err("a: 1\nb: \xff\n", CR_ESYNTAX, 2, 4, "invalid leading UTF-8 octet");
}

static void test_documents(void **state)
{
    (void)state;
    assert_yaml_err("a: 1\n---\nb: 2\n", CR_ESYNTAX, 2, 1,
                    "a second YAML document; the input must hold exactly one");
    assert_yaml_err("--- 1\n--- 2\n", CR_ESYNTAX, 2, 1, "a second YAML document");
    assert_yaml_err("a: 1\n...\n---\n", CR_ESYNTAX, 3, 1, "a second YAML document");
    assert_yaml_err("", CR_ESYNTAX, 1, 1, "no YAML document in the input");
    assert_yaml_err("# only a comment\n\n", CR_ESYNTAX, 1, 1, "no YAML document");
    assert_yaml_err("   \n", CR_ESYNTAX, 1, 1, "no YAML document");
    assert_yaml("--- a\n...\n", "\"a\"");
    /* the length counts, not a NUL: trailing bytes outside len are ignored */
    {
        json_t *v = NULL;
        assert_int_equal(cr_yaml_to_json("a: 1\n---\nb: 2", 5, &v, NULL), 0);
        assert_int_equal(json_integer_value(json_object_get(v, "a")), 1);
        json_decref(v);
        assert_int_equal(cr_yaml_to_json("a: 1\n---\nb: 2", 14, &v, NULL), CR_ESYNTAX);
        assert_null(v);
    }
}

static void test_tags(void **state)
{
    (void)state;
    assert_yaml("[!!str 12, !!str true, !!str ~, !!str ]",
                "[\"12\", \"true\", \"~\", \"\"]");
    assert_yaml("[!!int \"12\", !!int 0x10, !!int '-3']", "[12, 16, -3]");
    assert_yaml("[!!float 1, !!float '2.5', !!float 1e2]", "[1.0, 2.5, 100.0]");
    assert_yaml("[!!bool 'true', !!bool FALSE]", "[true, false]");
    assert_yaml("[!!null '', !!null ~, !!null null]", "[null, null, null]");
    assert_yaml("[! 12, ! true, !<tag:yaml.org,2002:str> 5]", "[\"12\", \"true\", \"5\"]");
    assert_yaml("!!map {a: !!seq [1]}", "{\"a\": [1]}");
    assert_yaml("%TAG !y! tag:yaml.org,2002:\n---\n!y!str 7", "\"7\"");
    assert_yaml("!!str 12: a", "{\"12\": \"a\"}");
    /* the text must fit the tag */
    assert_yaml_err("a: !!int abc", CR_EINVAL, 1, 4, "'abc' does not fit its tag !!int");
    assert_yaml_err("a: !!int 1.5", CR_EINVAL, 1, 4, "does not fit its tag !!int");
    assert_yaml_err("a: !!float 0x10", CR_EINVAL, 1, 4, "does not fit its tag !!float");
    assert_yaml_err("a: !!bool yes", CR_EINVAL, 1, 4, "does not fit its tag !!bool");
    assert_yaml_err("a: !!null 0", CR_EINVAL, 1, 4, "does not fit its tag !!null");
    assert_yaml_err("a: !!int 99999999999999999999", CR_EINVAL, 1, 4, "out of range");
    /* other tags */
    assert_yaml_err("a: !!binary aGk=", CR_EINVAL, 1, 4, "unsupported tag !!binary");
    assert_yaml_err("a: !!timestamp 2024-01-01", CR_EINVAL, 1, 4, "unsupported tag !!timestamp");
    assert_yaml_err("a: !secret x", CR_EINVAL, 1, 4, "unsupported tag !secret");
    assert_yaml_err("a: !!set {x}", CR_EINVAL, 1, 4, "unsupported tag !!set on a mapping");
    assert_yaml_err("a: !!seq {x: 1}", CR_EINVAL, 1, 4, "misplaced tag !!seq on a mapping");
    assert_yaml_err("a: !!str [1]", CR_EINVAL, 1, 4, "misplaced tag !!str on a sequence");
    assert_yaml_err("a: !!map x", CR_EINVAL, 1, 4, "misplaced tag !!map on a scalar");
    assert_yaml_err("!foo k: v", CR_EINVAL, 1, 1, "unsupported tag !foo");
}

/* ---- a whole workflow ---- */

static const char workflow_yaml[] =
    "# The welcome series: hand-written, so YAML\n"
    "id: welcome\n"
    "name: \"Welcome series\"\n"
    "version: 3\n"
    "enabled: true\n"
    "archived: false\n"
    "until: ~\n"
    "trigger:\n"
    "  event: profile.created\n"
    "  filter: country = 'FR' and age >= 18\n"
    "defaults: &defaults\n"
    "  channel: email\n"
    "  retries: 2\n"
    "  backoff: 1.5\n"
    "  quiet_hours: [22, 7]\n"
    "steps:\n"
    "  - id: send-welcome\n"
    "    template: welcome\n"
    "    settings: *defaults\n"
    "    subject: >-\n"
    "      Welcome to crier,\n"
    "      {{ first_name }}!\n"
    "  - id: wait\n"
    "    wait: 2d\n"
    "  - id: reminder\n"
    "    when: {opened: false, clicked: false}\n"
    "    settings: *defaults\n"
    "    body: |\n"
    "      Hello {{ first_name }},\n"
    "\n"
    "      did you see our welcome mail?\n"
    "  - {id: end, tags: [onboarding, 'on'], limit: 0x10, ratio: .25}\n"
    "notes: 'it''s fine'\n";

static const char workflow_json[] =
    "{\"id\": \"welcome\", \"name\": \"Welcome series\", \"version\": 3, \"enabled\": true,\n"
    " \"archived\": false, \"until\": null,\n"
    " \"trigger\": {\"event\": \"profile.created\", \"filter\": \"country = 'FR' and age >= 18\"},\n"
    " \"defaults\": {\"channel\": \"email\", \"retries\": 2, \"backoff\": 1.5, \"quiet_hours\": [22, 7]},\n"
    " \"steps\": [\n"
    "  {\"id\": \"send-welcome\", \"template\": \"welcome\",\n"
    "   \"settings\": {\"channel\": \"email\", \"retries\": 2, \"backoff\": 1.5, \"quiet_hours\": [22, 7]},\n"
    "   \"subject\": \"Welcome to crier, {{ first_name }}!\"},\n"
    "  {\"id\": \"wait\", \"wait\": \"2d\"},\n"
    "  {\"id\": \"reminder\", \"when\": {\"opened\": false, \"clicked\": false},\n"
    "   \"settings\": {\"channel\": \"email\", \"retries\": 2, \"backoff\": 1.5, \"quiet_hours\": [22, 7]},\n"
    "   \"body\": \"Hello {{ first_name }},\\n\\ndid you see our welcome mail?\\n\"},\n"
    "  {\"id\": \"end\", \"tags\": [\"onboarding\", \"on\"], \"limit\": 16, \"ratio\": 0.25}],\n"
    " \"notes\": \"it's fine\"}\n";

static void test_workflow_document(void **state)
{
    (void)state;
    assert_yaml(workflow_yaml, workflow_json);
}

/* ---- positions ---- */

static void assert_pos(const struct cr_yaml_pos *p, const json_t *node, int line, int col)
{
    int l, c;
    assert_int_equal(cr_yaml_pos_get(p, node, &l, &c), 0);
    assert_int_equal(l, line);
    assert_int_equal(c, col);
}

static void assert_key_pos(const struct cr_yaml_pos *p, const json_t *obj, const char *key,
                           int line, int col)
{
    int l, c;
    assert_int_equal(cr_yaml_pos_get_key(p, obj, key, &l, &c), 0);
    assert_int_equal(l, line);
    assert_int_equal(c, col);
}

static void test_positions(void **state)
{
    static const char doc[] = "id: welcome\n"          /* 1 */
                              "steps:\n"               /* 2 */
                              "  - id: s1\n"           /* 3 */
                              "    wait: 1.5\n"        /* 4 */
                              "    skip: false\n"      /* 5 */
                              "  - {id: s2, n: [7]}\n" /* 6 */
                              "  - &d {x: héé, y: 1}\n" /* 7 */
                              "  - *d\n";              /* 8 */
    struct cr_err e = CR_ERR_INIT;
    struct cr_yaml_pos *p = NULL;
    json_t *v = NULL, *steps, *s1, *s2, *d, *copy;
    int l = -1, c = -1;
    (void)state;
    assert_int_equal(cr_yaml_to_json_pos(doc, strlen(doc), &v, &p, &e), 0);
    assert_non_null(p);
    assert_pos(p, v, 1, 1);
    assert_pos(p, json_object_get(v, "id"), 1, 5);
    assert_key_pos(p, v, "id", 1, 1);
    assert_key_pos(p, v, "steps", 2, 1);
    steps = json_object_get(v, "steps");
    assert_pos(p, steps, 3, 3);
    s1 = json_array_get(steps, 0);
    assert_pos(p, s1, 3, 5);
    assert_pos(p, json_object_get(s1, "id"), 3, 9);
    assert_pos(p, json_object_get(s1, "wait"), 4, 11);
    assert_key_pos(p, s1, "skip", 5, 5);
    /* false is jansson's singleton: no position of its own, the key's instead */
    assert_int_equal(cr_yaml_pos_get(p, json_object_get(s1, "skip"), &l, &c), CR_ENOTFOUND);
    assert_int_equal(l, 0);
    assert_int_equal(c, 0);
    s2 = json_array_get(steps, 1);
    assert_pos(p, s2, 6, 5);
    assert_pos(p, json_object_get(s2, "id"), 6, 10);
    assert_pos(p, json_object_get(s2, "n"), 6, 17);
    assert_pos(p, json_array_get(json_object_get(s2, "n"), 0), 6, 18);
    /* columns count characters, not bytes */
    d = json_array_get(steps, 2);
    assert_pos(p, d, 7, 5); /* an anchored (or tagged) node starts at its anchor */
    assert_pos(p, json_object_get(d, "y"), 7, 20);
    /* an alias's copy is where the alias is; inside it, where the anchored node is */
    copy = json_array_get(steps, 3);
    assert_pos(p, copy, 8, 5);
    assert_pos(p, json_object_get(copy, "x"), 7, 12);
    assert_key_pos(p, copy, "y", 7, 17);
    /* what is not there */
    assert_int_equal(cr_yaml_pos_get_key(p, v, "nope", &l, &c), CR_ENOTFOUND);
    assert_int_equal(cr_yaml_pos_get_key(p, s1, "steps", &l, &c), CR_ENOTFOUND);
    assert_int_equal(cr_yaml_pos_get(NULL, v, &l, &c), CR_ENOTFOUND);
    cr_yaml_pos_free(p);
    json_decref(v);
    /* errors leave nothing behind */
    p = (struct cr_yaml_pos *)1;
    assert_int_equal(cr_yaml_to_json_pos("a: [", 4, &v, &p, NULL), CR_ESYNTAX);
    assert_null(p);
    assert_null(v);
    cr_yaml_pos_free(NULL);
}

static void test_positions_many_nodes(void **state)
{
    struct cr_buf b = CR_BUF_INIT(0);
    struct cr_yaml_pos *p = NULL;
    json_t *v = NULL;
    (void)state;
    for (int i = 0; i < 5000; i++)
        cr_buf_printf(&b, "k%d: [%d, s%d]\n", i, i, i);
    assert_int_equal(cr_yaml_to_json_pos(b.data, b.len, &v, &p, NULL), 0);
    for (int i = 0; i < 5000; i += 7) {
        char key[16];
        json_t *arr;
        snprintf(key, sizeof key, "k%d", i);
        arr = json_object_get(v, key);
        assert_key_pos(p, v, key, i + 1, 1);
        assert_pos(p, arr, i + 1, (int)strlen(key) + 3);
        assert_pos(p, json_array_get(arr, 1), i + 1, (int)(2 * strlen(key) + 5));
    }
    cr_yaml_pos_free(p);
    json_decref(v);
    cr_buf_release(&b);
}

/* ---- files ---- */

static char tmpdir[64];

static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int files_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/crier-yaml-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int files_teardown(void **state)
{
    static const char *const names[] = {"wf.json", "wf.yaml", "wf.yml", "wf.YAML", "sniff-json",
                                        "sniff-yaml", "bad.json", "dup.json", "bad.yaml",
                                        "flow.conf", "big.yaml", "empty.yaml", NULL};
    char path[256];
    (void)state;
    for (int i = 0; names[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
        unlink(path);
    }
    return rmdir(tmpdir);
}

static void load_same(const char *name, const char *text, const json_t *want)
{
    struct cr_err e = CR_ERR_INIT;
    json_t *v = NULL;
    const char *path = write_file(name, text);
    int rc = cr_load_json_or_yaml_file(path, &v, &e);
    if (rc)
        fail_msg("%s: %s", name, e.msg);
    assert_true(json_equal(v, want));
    json_decref(v);
}

static void load_err(const char *name, const char *text, int code, int line, int col,
                     const char *msg)
{
    struct cr_err e = CR_ERR_INIT;
    json_t *v = (json_t *)1;
    const char *path = write_file(name, text);
    char want[512];
    int rc = cr_load_json_or_yaml_file(path, &v, &e);
    snprintf(want, sizeof want, "%s%s", path, msg);
    if (rc != code || e.line != line || e.col != col || strncmp(e.msg, want, strlen(want)) != 0)
        fail_msg("%s: %s %d:%d '%s', want %s %d:%d '%s...'", name, cr_errname(rc), e.line,
                 e.col, e.msg, cr_errname(code), line, col, want);
    assert_null(v);
}

static void test_load_files(void **state)
{
    json_t *want = json_loads(workflow_json, 0, NULL);
    struct cr_yaml_pos *p = (struct cr_yaml_pos *)1;
    struct cr_err e = CR_ERR_INIT;
    json_t *v;
    char *json = json_dumps(want, JSON_INDENT(2));
    (void)state;
    load_same("wf.json", json, want);
    load_same("wf.yaml", workflow_yaml, want);
    load_same("wf.yml", workflow_yaml, want);
    load_same("wf.YAML", workflow_yaml, want);
    load_same("sniff-json", json, want);
    load_same("sniff-yaml", workflow_yaml, want);
    /* positions: for YAML, and none for JSON */
    assert_int_equal(cr_load_json_or_yaml_file_pos(write_file("wf.yaml", workflow_yaml), &v,
                                                   &p, &e),
                     0);
    assert_non_null(p);
    assert_key_pos(p, v, "steps", 16, 1);
    cr_yaml_pos_free(p);
    json_decref(v);
    assert_int_equal(cr_load_json_or_yaml_file_pos(write_file("wf.json", json), &v, &p, &e), 0);
    assert_null(p);
    json_decref(v);
    free(json);
    json_decref(want);
}

static void test_load_file_errors(void **state)
{
    struct cr_err e = CR_ERR_INIT;
    json_t *v = (json_t *)1;
    char path[256];
    (void)state;
    load_err("bad.yaml", "id: a\nsteps:\n  - id: x\n    id: y\n", CR_ESYNTAX, 4, 5,
             ":4:5: duplicate key 'id' in a mapping");
    load_err("bad.yaml", "a:\n  b: 1\n c: 2\n", CR_ESYNTAX, 3, 2, ":3:2: did not find expected key");
    load_err("empty.yaml", "", CR_ESYNTAX, 1, 1, ":1:1: no YAML document in the input");
    /* JSON: jansson's messages and positions, duplicates refused */
    load_err("dup.json", "{\n  \"id\": 1,\n  \"id\": 2\n}\n", CR_ESYNTAX, 3, 6,
             ":3:6: duplicate object key"); /* jansson: where the token ends */
    load_err("bad.json", "{\"a\": [1, 2,]}", CR_ESYNTAX, 1, 13, ":1:13: unexpected token");
    load_err("bad.json", "a: 1\n", CR_ESYNTAX, 1, 1, ":1:1: invalid token");
    /* sniffed as JSON by its first character: flow YAML in a file without a YAML name fails */
    load_err("flow.conf", "  {a: 1}", CR_ESYNTAX, 1, 4, ":1:4: string or '}' expected");
    /* a file that is not there or cannot be read */
    snprintf(path, sizeof path, "%s/missing.yaml", tmpdir);
    assert_int_equal(cr_load_json_or_yaml_file(path, &v, &e), CR_ENOTFOUND);
    assert_null(v);
    assert_true(strncmp(e.msg, path, strlen(path)) == 0);
    assert_non_null(strstr(e.msg, ": cannot open the file: No such file or directory"));
    cr_err_clear(&e);
    assert_int_equal(cr_load_json_or_yaml_file(tmpdir, &v, &e), CR_EIO);
    assert_non_null(strstr(e.msg, "cannot read the file"));
}

static void test_load_file_too_big(void **state)
{
    struct cr_err e = CR_ERR_INIT;
    json_t *v = (json_t *)1;
    char path[256];
    FILE *f;
    (void)state;
    snprintf(path, sizeof path, "%s/big.yaml", tmpdir);
    f = fopen(path, "wb"); /* one byte too many (a sparse file: cheap to write) */
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), (off_t)CR_YAML_MAX_FILE + 1), 0);
    fclose(f);
    assert_int_equal(cr_load_json_or_yaml_file(path, &v, &e), CR_ETOOBIG);
    assert_null(v);
    assert_non_null(strstr(e.msg, "the file is larger than 16 MiB"));
}

int main(void)
{
    const struct CMUnitTest parse[] = {
        cmocka_unit_test(test_nulls),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_strings_and_block_scalars),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_nesting_block_and_flow),
        cmocka_unit_test(test_anchors_and_aliases),
        cmocka_unit_test(test_aliases_are_copies),
        cmocka_unit_test(test_billion_laughs_stops_early),
        cmocka_unit_test(test_node_budget_boundary),
        cmocka_unit_test(test_text_budget),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_bad_indentation_and_syntax),
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_workflow_document),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_positions_many_nodes),
    };
    const struct CMUnitTest files[] = {
        cmocka_unit_test(test_load_files),
        cmocka_unit_test(test_load_file_errors),
        cmocka_unit_test(test_load_file_too_big),
    };
    int failed = cmocka_run_group_tests_name("yaml", parse, NULL, NULL);
    failed += cmocka_run_group_tests_name("yaml files", files, files_setup, files_teardown);
    return failed ? 1 : 0;
}
