/*
 * bare.c - the reference for bench/tracking: a bare libmicrohttpd pixel server that only
 * appends to a buffered file
 *
 * Usage: bare PORT THREADS LOGFILE
 *   Listens on 127.0.0.1:PORT (0: any free port) and prints "listening on
 *   http://127.0.0.1:PORT" once it accepts connections. GET /o/ANYTHING answers the same
 *   43-byte GIF with the same headers as crier's open pixel and appends one line, the path and
 *   the user agent, to LOGFILE (a FILE * with stdio's buffer, under a mutex); anything else
 *   gets 404. SIGTERM or SIGINT stop it: the daemon is stopped, then the file is closed, so
 *   every answered hit is in the file when it exits.
 *
 * The daemon is configured as src/tracking/server.c configures crier's (internal polling
 * thread, epoll, turbo, a pool of THREADS, the same connection memory limit, timeout and
 * backlog), and the response is queued only once the request is complete (the first call
 * returns MHD_YES), as crier does, so connections are kept alive. What it leaves out is
 * everything crier does per hit: no token, no HMAC, no queue, no database.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONN_MEMORY (12u * 1024) /* as crier's server.c */

static const unsigned char gif[43] = {
    'G',  'I',  'F',  '8',  '9',  'a',  0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

static FILE *out;
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static struct MHD_Response *pixel, *not_found;
static int marker; /* *state of a request whose headers are in */

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    (void)cls;
    (void)version;
    (void)upload;
    if (!*state) { /* answer only once the whole request is in: keep-alive */
        *state = &marker;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) || strncmp(url, "/o/", 3))
        return MHD_queue_response(c, MHD_HTTP_NOT_FOUND, not_found);
    const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
    pthread_mutex_lock(&out_mu);
    fputs(url, out);
    putc('\t', out);
    fputs(ua ? ua : "", out);
    putc('\n', out);
    pthread_mutex_unlock(&out_mu);
    return MHD_queue_response(c, MHD_HTTP_OK, pixel);
}

static void completed(void *cls, struct MHD_Connection *c, void **state,
                      enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    *state = NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bare PORT THREADS LOGFILE\n");
        return 2;
    }
    unsigned port = (unsigned)strtoul(argv[1], NULL, 10);
    unsigned threads = (unsigned)strtoul(argv[2], NULL, 10);
    out = fopen(argv[3], "a");
    if (!out) {
        perror(argv[3]);
        return 1;
    }
    /* the pool's threads inherit this mask: only sigwait() below sees SIGTERM and SIGINT */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    pixel = MHD_create_response_from_buffer(sizeof gif, (void *)gif, MHD_RESPMEM_PERSISTENT);
    not_found = MHD_create_response_from_buffer(10, (void *)"not found\n",
                                                MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(pixel, MHD_HTTP_HEADER_CONTENT_TYPE, "image/gif");
    MHD_add_response_header(pixel, MHD_HTTP_HEADER_CACHE_CONTROL,
                            "no-cache, no-store, must-revalidate, max-age=0");
    MHD_add_response_header(pixel, MHD_HTTP_HEADER_PRAGMA, "no-cache");
    MHD_add_response_header(pixel, MHD_HTTP_HEADER_EXPIRES, "0");
    MHD_add_response_header(not_found, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bare: cannot listen on 127.0.0.1:%u\n", port);
        return 1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("listening on http://127.0.0.1:%u\n", di ? (unsigned)di->port : port);
    fflush(stdout);

    int sig;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(pixel);
    MHD_destroy_response(not_found);
    if (fclose(out)) {
        perror(argv[3]);
        return 1;
    }
    return 0;
}
