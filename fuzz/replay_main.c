/*
 * replay_main.c - runs a fuzz target over every file of a corpus folder (no libFuzzer needed)
 *
 * Built with each fuzz_<name>.c in ordinary builds, so the sanitizers of that build check every
 * input a past fuzzing run kept. An empty or missing folder is an error: a replay that feeds
 * nothing proves nothing.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int main(int argc, char **argv)
{
    DIR *d;
    struct dirent *e;
    int files = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    d = opendir(argv[1]);
    if (!d) {
        perror(argv[1]);
        return 1;
    }
    while ((e = readdir(d))) {
        char path[4096];
        FILE *f;
        long n;
        uint8_t *buf;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        f = fopen(path, "rb");
        if (!f)
            continue;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc(n > 0 ? (size_t)n : 1);
        if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            fclose(f);
            free(buf);
            continue;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n > 0 ? (size_t)n : 0);
        free(buf);
        files++;
    }
    closedir(d);
    printf("replayed %d inputs from %s\n", files, argv[1]);
    return files ? 0 : 1;
}
