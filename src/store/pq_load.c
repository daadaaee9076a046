/*
 * pq_load.c - dlopen() of libpq on first use (see pq_load.h)
 */
#define CR_PQ_LOAD_C
#include "store/pq_load.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

struct cr_pq cr__pq;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[400];

static void load(void)
{
    /* The soname of Debian's libpq5; libpq.so (the -dev symlink) as a fallback. */
    void *h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        h = dlopen("libpq.so", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(load_error, sizeof load_error, "%s", dlerror());
        return;
    }
#define X(ret, name, args)                                                                   \
    if (!load_error[0]) {                                                                    \
        *(void **)(&cr__pq.name) = dlsym(h, #name);                                          \
        if (!cr__pq.name)                                                                    \
            snprintf(load_error, sizeof load_error, "libpq lacks %s", #name);                \
    }
    CR_PQ_FUNCTIONS(X)
#undef X
}

int cr__pq_load(struct cr_err *err)
{
    pthread_once(&once, load);
    if (load_error[0])
        return cr_err_set(err, CR_EUNSUPPORTED,
                          "PostgreSQL needs libpq (Debian package libpq5): %s", load_error);
    return 0;
}
