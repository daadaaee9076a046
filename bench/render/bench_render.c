/*
 * bench_render.c - crier's side of bench/render: one template, rendered for N profiles
 *
 * The delivery's path: compile once; bind the profile as a record whose row changes per
 * recipient (text values, as the store returns them) and the offers as JSON bound once;
 * render into one reused buffer. One thread. Usage:
 *   bench_render TEMPLATE OFFERS.json N SAMPLE_OUT
 * Prints "crier N renders S seconds R renders/s" and writes the renders of profiles 0..2
 * to SAMPLE_OUT, for bench.js to compare with liquidjs's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "template/template.h"

static const char *const first[16] = {"Ada",   "Grace", "Alan", "",     "Linus", "Margaret",
                                      "Ken",   "Barbara", "Edsger", "Frances", "Donald",
                                      "Radia", "John", "Hedy", "Dennis", "Katherine"};
static const char *const last[16] = {"Lovelace", "Hopper", "Turing",   "Liskov", "Torvalds",
                                     "Hamilton", "Thompson", "Liskov", "Dijkstra", "Allen",
                                     "Knuth",    "Perlman", "McCarthy", "Lamarr", "Ritchie",
                                     "Johnson"};
static const char *const tiers[3] = {"gold", "silver", "bronze"};
static const char *const cities[8] = {"Paris", "Lyon", "Berlin", "Madrid",
                                      "Rome",  "Lisbon", "Vienna", "Brussels"};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long len;
    if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
        perror(path);
        exit(2);
    }
    p = malloc((size_t)len + 1);
    if (!p || fread(p, 1, (size_t)len, f) != (size_t)len) {
        perror(path);
        exit(2);
    }
    p[len] = '\0';
    fclose(f);
    *n = (size_t)len;
    return p;
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"first_name", "last_name", "tier", "city", "points"};
    static const enum cr_coltype types[] = {CR_COL_TEXT, CR_COL_TEXT, CR_COL_TEXT, CR_COL_TEXT,
                                            CR_COL_INTEGER};
    struct cr_template *t = NULL;
    struct cr_err err = CR_ERR_INIT;
    struct cr_buf out = CR_BUF_INIT(1 << 20);
    struct cr_trecord *rec;
    struct cr_tvars *vars;
    json_t *offers;
    json_error_t jerr;
    size_t srclen, bytes = 0;
    char *src, points[24];
    long n;
    double t0, secs;
    FILE *sample;
    if (argc != 5) {
        fprintf(stderr, "usage: bench_render TEMPLATE OFFERS.json N SAMPLE_OUT\n");
        return 2;
    }
    src = slurp(argv[1], &srclen);
    n = strtol(argv[3], NULL, 10);
    offers = json_load_file(argv[2], 0, &jerr);
    if (!offers) {
        fprintf(stderr, "%s: %s\n", argv[2], jerr.text);
        return 2;
    }
    if (cr_template_compile(src, srclen, NULL, &t, &err)) {
        fprintf(stderr, "%s: %s\n", argv[1], err.msg);
        return 2;
    }
    rec = cr_trecord_new_names(names, types, 5);
    vars = cr_tvars_new();
    cr_tvars_set_record(vars, "profile", rec);
    cr_tvars_set_json(vars, "offers", offers);
    sample = fopen(argv[4], "wb");
    if (!sample) {
        perror(argv[4]);
        return 2;
    }
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        int pl = snprintf(points, sizeof points, "%ld", (i * 37) % 5000);
        cr_trecord_set(rec, 0, first[i % 16], strlen(first[i % 16]));
        cr_trecord_set(rec, 1, last[(i / 16) % 16], strlen(last[(i / 16) % 16]));
        cr_trecord_set(rec, 2, tiers[i % 3], strlen(tiers[i % 3]));
        cr_trecord_set(rec, 3, cities[i % 8], strlen(cities[i % 8]));
        cr_trecord_set(rec, 4, points, (size_t)pl);
        cr_buf_reset(&out);
        if (cr_template_render(t, vars, &out, &err)) {
            fprintf(stderr, "render %ld: %s\n", i, err.msg);
            return 2;
        }
        bytes += out.len;
        if (i < 3)
            fwrite(out.data, 1, out.len, sample);
    }
    secs = now_s() - t0;
    fclose(sample);
    printf("crier %ld renders %.3f seconds %.0f renders/s (%.1f MB/s of output)\n", n, secs,
           (double)n / secs, (double)bytes / secs / 1e6);
    cr_tvars_free(vars);
    cr_trecord_free(rec);
    cr_template_free(t);
    json_decref(offers);
    cr_buf_release(&out);
    free(src);
    return 0;
}
