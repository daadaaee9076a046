/*
 * smpp.c - the ESME session: TCP connection, bind, reading and answering PDUs, enquire_link,
 *          unbind; the message window and its outcomes are in smpp_send.c
 *
 * One non-blocking socket and poll(2). Bytes read go to a buffer of CR_SMPP_PDU_MAX bytes and
 * are cut into PDUs with cr_smpp_pdu_frame(); PDUs to send are encoded onto an output buffer
 * that each pump writes as far as the socket takes. Requests from the SMSC are answered here:
 * enquire_link, deliver_sm (a receipt goes to the receipt handler), unbind (then the connection
 * is closed and smpp_send.c reconnects), anything else gets generic_nack ESME_RINVCMDID.
 * A broken stream (bad command_length, EOF, a socket error) closes the connection: SMPP cannot
 * resynchronise.
 *
 * Keep-alive (§2.8): after enquire_ms without any PDU either way an enquire_link is sent; no
 * enquire_link_resp within timeout_ms closes the connection.
 *
 * Spec: SMPP v3.4 §2.3-2.4 (bind), §2.8 (enquire_link), §2.9 (unbind), §3.3 (generic_nack),
 * §4.6 (deliver_sm and its resp), Appendix B (receipts).
 */
#include "channel/sms/smpp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "channel/sms/gsm.h"
#include "channel/sms/receipt.h"
#include "channel/sms/smpp_int.h"
#include "core/log.h"
#include "core/mem.h"

#define SMPP_DEFAULT_WINDOW 10
#define SMPP_MAX_WINDOW 1000
#define SMPP_OUT_MAX (4u << 20) /* queued output: a full window is far below this */
#define SMPP_UNBIND_WAIT_MS 2000

int64_t cr__smpp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *cr_smpp_outcome_name(enum cr_smpp_outcome o)
{
    switch (o) {
    case CR_SMPP_SENT:
        return "sent";
    case CR_SMPP_SOFT:
        return "soft";
    case CR_SMPP_HARD:
        return "hard";
    }
    return "?";
}

/* Copies an optional config string into a C-Octet String field of size max (NUL included). */
static int copy_field(char *dst, size_t max, const char *src, const char *name, int required,
                      struct cr_err *err)
{
    if (!src || !*src) {
        if (required)
            return cr_err_set(err, CR_EINVAL, "SMPP config: %s is required", name);
        dst[0] = '\0';
        return 0;
    }
    size_t n = strlen(src);
    if (n >= max)
        return cr_err_set(err, CR_EINVAL, "SMPP config: %s is %zu characters, at most %zu allowed",
                          name, n, max - 1);
    memcpy(dst, src, n + 1);
    return 0;
}

int cr_smpp_new(const struct cr_smpp_config *cfg, struct cr_smpp **out, struct cr_err *err)
{
    struct cr_smpp tmp = {0};
    int rc = copy_field(tmp.host, sizeof tmp.host, cfg->host, "host", 1, err);
    if (!rc)
        rc = copy_field(tmp.system_id, sizeof tmp.system_id, cfg->system_id, "system_id", 1, err);
    if (!rc)
        rc = copy_field(tmp.password, sizeof tmp.password, cfg->password, "password", 0, err);
    if (!rc)
        rc = copy_field(tmp.system_type, sizeof tmp.system_type, cfg->system_type,
                        "system_type", 0, err);
    if (!rc)
        rc = copy_field(tmp.source_addr, sizeof tmp.source_addr, cfg->source_addr,
                        "source_addr", 0, err);
    if (rc)
        return rc;
    if (cfg->port < 1 || cfg->port > 65535)
        return cr_err_set(err, CR_EINVAL, "SMPP config: port %d is not in 1..65535", cfg->port);
    if (cfg->source_ton < 0 || cfg->source_ton > 255 || cfg->source_npi < 0 ||
        cfg->source_npi > 255)
        return cr_err_set(err, CR_EINVAL, "SMPP config: source_ton and source_npi must be 0..255");
    if (cfg->window < 0 || cfg->window > SMPP_MAX_WINDOW)
        return cr_err_set(err, CR_EINVAL, "SMPP config: window %d is not in 1..%d (0: %d)",
                          cfg->window, SMPP_MAX_WINDOW, SMPP_DEFAULT_WINDOW);
    if (!(cfg->rate >= 0)) /* also refuses NaN */
        return cr_err_set(err, CR_EINVAL, "SMPP config: rate must be >= 0 (0: unlimited)");
    if (cfg->enquire_secs < 0 || cfg->timeout_secs < 0)
        return cr_err_set(err, CR_EINVAL,
                          "SMPP config: enquire_secs and timeout_secs must be >= 0 (0: 30)");
    struct cr_smpp *s = cr_xmalloc(sizeof *s);
    *s = tmp;
    s->port = cfg->port;
    s->source_ton = (uint8_t)cfg->source_ton;
    s->source_npi = (uint8_t)cfg->source_npi;
    s->transceiver = cfg->transceiver != 0;
    s->window = cfg->window ? cfg->window : SMPP_DEFAULT_WINDOW;
    s->rate = cfg->rate;
    s->enquire_ms = (int64_t)(cfg->enquire_secs ? cfg->enquire_secs : 30) * 1000;
    s->timeout_ms = (int64_t)(cfg->timeout_secs ? cfg->timeout_secs : 30) * 1000;
    s->fd = -1;
    s->state = CONN_DOWN;
    cr_buf_init(&s->out, SMPP_OUT_MAX);
    s->in = cr_xmalloc(CR_SMPP_PDU_MAX);
    s->tokens = 1;
    s->tokens_ms = cr__smpp_now_ms();
    *out = s;
    return 0;
}

void cr_smpp_set_receipt_handler(struct cr_smpp *s,
                                 void (*receipt)(void *data, const char *message_id,
                                                 enum cr_smpp_state state, const char *err),
                                 void *data)
{
    s->receipt = receipt;
    s->receipt_data = data;
}

void cr_smpp_set_mo_handler(struct cr_smpp *s,
                            void (*mo)(void *data, const char *from, const char *text),
                            void *data)
{
    s->mo = mo;
    s->mo_data = data;
}

uint32_t cr__smpp_seq(struct cr_smpp *s)
{
    s->next_seq = s->next_seq >= 0x7FFFFFFFu ? 1 : s->next_seq + 1;
    return s->next_seq;
}

int cr__smpp_queue(struct cr_smpp *s, const struct cr_smpp_pdu *p, struct cr_err *err)
{
    int rc = cr_smpp_pdu_encode(p, &s->out, err);
    if (rc == 0)
        cr_log(CR_LOG_TRACE, NULL, "smpp: > %s seq %u", cr_smpp_command_name(p->command_id),
               (unsigned)p->seq);
    return rc;
}

void cr__smpp_close(struct cr_smpp *s, const char *why)
{
    if (s->fd >= 0) {
        cr_log(CR_LOG_DEBUG, NULL, "smpp: closing connection to %s:%d: %s", s->host, s->port,
               why);
        close(s->fd);
    }
    s->fd = -1;
    s->state = CONN_DOWN;
    s->in_len = 0;
    s->enquire_seq = 0;
    cr_buf_reset(&s->out);
    snprintf(s->lost, sizeof s->lost, "%s", why);
}

/* Answers a request with an empty response of the given command and status. */
static void answer(struct cr_smpp *s, uint32_t command_id, uint32_t status, uint32_t seq)
{
    struct cr_smpp_pdu r = {.command_id = command_id, .status = status, .seq = seq};
    if (cr__smpp_queue(s, &r, NULL))
        cr__smpp_close(s, "output queue full");
}

/* ------------------------------------------------------------------ incoming PDUs */

/* A mobile-originated message: decoded and handed to the MO handler. */
static void on_mo(struct cr_smpp *s, const struct cr_smpp_sm *sm)
{
    const unsigned char *data = sm->tlv & CR_SMPP_HAS_MESSAGE_PAYLOAD ? sm->message_payload
                                                                      : sm->short_message;
    size_t n = sm->tlv & CR_SMPP_HAS_MESSAGE_PAYLOAD ? sm->message_payload_len : sm->sm_length;
    struct cr_err e = CR_ERR_INIT;
    char from[CR_SMPP_ADDR_MAX + 1];
    if (!s->mo) {
        cr_log(CR_LOG_DEBUG, NULL, "smpp: mobile-originated message from %s dropped",
               sm->source_addr);
        return;
    }
    if (sm->esm_class & CR_SMPP_ESM_UDHI) {
        struct cr_sms_udh h;
        if (cr_sms_udh_parse(data, n, &h, &e)) {
            cr_log(CR_LOG_WARN, NULL, "smpp: reply from %s dropped: %s", sm->source_addr,
                   cr_err_msg(&e));
            return;
        }
        data += h.len;
        n -= h.len;
    }
    struct cr_buf text = CR_BUF_INIT(0);
    if (cr_sms_decode(data, n, sm->data_coding, &text, &e)) {
        cr_log(CR_LOG_WARN, NULL, "smpp: reply from %s dropped: %s", sm->source_addr,
               cr_err_msg(&e));
    } else {
        snprintf(from, sizeof from, "%s%s", sm->source_addr_ton == 1 ? "+" : "",
                 sm->source_addr);
        s->mo(s->mo_data, from, text.data ? text.data : "");
    }
    cr_buf_release(&text);
}

/* A deliver_sm: receipts go to the handler, the TLVs winning over the text (receipt.h). */
static void on_deliver_sm(struct cr_smpp *s, const struct cr_smpp_sm *sm)
{
    if ((sm->esm_class & CR_SMPP_ESM_TYPE_MASK) != CR_SMPP_ESM_SMSC_RECEIPT) {
        on_mo(s, sm);
        return;
    }
    struct cr_smpp_receipt r;
    const char *text = sm->tlv & CR_SMPP_HAS_MESSAGE_PAYLOAD ? (const char *)sm->message_payload
                                                             : (const char *)sm->short_message;
    size_t n = sm->tlv & CR_SMPP_HAS_MESSAGE_PAYLOAD ? sm->message_payload_len : sm->sm_length;
    int prc = cr_smpp_receipt_parse(text, n, &r, NULL);
    const char *id = sm->tlv & CR_SMPP_HAS_RECEIPTED_MESSAGE_ID ? sm->receipted_message_id
                     : prc == 0                                 ? r.id
                                                                : "";
    int state = sm->tlv & CR_SMPP_HAS_MESSAGE_STATE ? sm->message_state
                : prc == 0                          ? r.stat
                                                    : CR_SMPP_STATE_NONE;
    if (!*id) {
        cr_log(CR_LOG_WARN, NULL, "smpp: delivery receipt without a message id ignored");
        return;
    }
    if (s->receipt)
        s->receipt(s->receipt_data, id, (enum cr_smpp_state)state,
                   prc == 0 && r.err[0] ? r.err : NULL);
}

static void dispatch(struct cr_smpp *s, const unsigned char *b, size_t n)
{
    struct cr_smpp_pdu p;
    struct cr_err e = CR_ERR_INIT;
    int rc = cr_smpp_pdu_decode(b, n, &p, &e);
    int is_resp = (p.command_id & CR_SMPP_RESP_BIT) != 0;
    s->last_io_ms = cr__smpp_now_ms();
    cr_log(CR_LOG_TRACE, NULL, "smpp: < %s seq %u status %s", cr_smpp_command_name(p.command_id),
           (unsigned)p.seq, cr_smpp_status_name(p.status));
    if (rc && !is_resp) {
        /* Unsupported or malformed request: nack it, keep the session (the frame was sound). */
        cr_log(CR_LOG_WARN, NULL, "smpp: %s from %s:%d", cr_err_msg(&e), s->host, s->port);
        answer(s, CR_SMPP_GENERIC_NACK,
               rc == CR_EUNSUPPORTED ? CR_ESME_RINVCMDID : CR_ESME_RSYSERR, p.seq);
        return;
    }
    if (rc) {
        /* A malformed response still has its header: decide by status, without the body. */
        cr_log(CR_LOG_WARN, NULL, "smpp: %s from %s:%d", cr_err_msg(&e), s->host, s->port);
        memset(&p.sm_resp, 0, sizeof p.sm_resp);
    }
    switch (p.command_id) {
    case CR_SMPP_BIND_TRANSMITTER_RESP:
    case CR_SMPP_BIND_TRANSCEIVER_RESP:
    case CR_SMPP_BIND_RECEIVER_RESP:
        if (s->state == CONN_BINDING && p.seq == s->bind_seq)
            s->bind_status = p.status;
        break;
    case CR_SMPP_SUBMIT_SM_RESP:
        if (s->on_resp)
            s->on_resp(s->resp_ctx, p.seq, p.status, p.sm_resp.message_id);
        break;
    case CR_SMPP_GENERIC_NACK:
        if (s->state == CONN_BINDING && p.seq == s->bind_seq)
            s->bind_status = p.status ? p.status : CR_ESME_RUNKNOWNERR;
        else if (p.seq == s->enquire_seq)
            s->enquire_seq = 0; /* the SMSC answered: the link is alive */
        else if (s->on_resp) /* a refused submit_sm: treat as its resp */
            s->on_resp(s->resp_ctx, p.seq, p.status ? p.status : CR_ESME_RUNKNOWNERR, "");
        break;
    case CR_SMPP_DELIVER_SM:
        answer(s, CR_SMPP_DELIVER_SM_RESP, CR_ESME_ROK, p.seq);
        on_deliver_sm(s, &p.sm);
        break;
    case CR_SMPP_ENQUIRE_LINK:
        answer(s, CR_SMPP_ENQUIRE_LINK_RESP, CR_ESME_ROK, p.seq);
        break;
    case CR_SMPP_ENQUIRE_LINK_RESP:
        if (p.seq == s->enquire_seq)
            s->enquire_seq = 0;
        break;
    case CR_SMPP_UNBIND:
        answer(s, CR_SMPP_UNBIND_RESP, CR_ESME_ROK, p.seq);
        if (s->fd >= 0 && s->out.len) /* best effort: the SMSC closes anyway */
            (void)!send(s->fd, s->out.data, s->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        cr__smpp_close(s, "the SMSC sent unbind");
        break;
    case CR_SMPP_UNBIND_RESP:
        if (p.seq == s->unbind_seq)
            s->unbound = 1;
        break;
    default:
        if (!is_resp)
            answer(s, CR_SMPP_GENERIC_NACK, CR_ESME_RINVCMDID, p.seq);
        break;
    }
}

/* Cuts complete PDUs off the input buffer and dispatches them; stops if the connection
 * closes meanwhile (a callback may not see PDUs of a dead session). */
static void read_pdus(struct cr_smpp *s)
{
    size_t off = 0;
    while (s->fd >= 0) {
        ssize_t n = cr_smpp_pdu_frame(s->in + off, s->in_len - off);
        if (n < 0) {
            cr__smpp_close(s, "the SMSC sent a PDU with an invalid command_length");
            return;
        }
        if (n == 0)
            break;
        dispatch(s, s->in + off, (size_t)n);
        off += (size_t)n;
    }
    if (s->fd < 0)
        return;
    memmove(s->in, s->in + off, s->in_len - off);
    s->in_len -= off;
}

/* Writes as much of the output queue as the socket takes. */
static void flush_out(struct cr_smpp *s)
{
    size_t off = 0;
    while (s->fd >= 0 && off < s->out.len) {
        ssize_t n = send(s->fd, s->out.data + off, s->out.len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            char why[200];
            snprintf(why, sizeof why, "write failed: %s", strerror(errno));
            cr__smpp_close(s, why);
            return;
        }
        off += (size_t)n;
        s->last_io_ms = cr__smpp_now_ms();
    }
    if (s->fd < 0 || off == 0)
        return;
    size_t rest = s->out.len - off;
    memmove(s->out.data, s->out.data + off, rest);
    cr_buf_truncate(&s->out, rest);
}

/* Sends enquire_link when the link has been idle, and gives up when it goes unanswered. */
static void keep_alive(struct cr_smpp *s, int64_t now)
{
    if (s->state != CONN_BOUND)
        return;
    if (s->enquire_seq) {
        if (now - s->enquire_sent_ms >= s->timeout_ms)
            cr__smpp_close(s, "no enquire_link_resp in time");
        return;
    }
    if (now - s->last_io_ms < s->enquire_ms)
        return;
    struct cr_smpp_pdu p = {.command_id = CR_SMPP_ENQUIRE_LINK, .seq = cr__smpp_seq(s)};
    if (cr__smpp_queue(s, &p, NULL) == 0) {
        s->enquire_seq = p.seq;
        s->enquire_sent_ms = now;
    }
}

void cr__smpp_pump(struct cr_smpp *s, int64_t wait_ms)
{
    if (s->fd < 0)
        return;
    int64_t now = cr__smpp_now_ms();
    keep_alive(s, now);
    flush_out(s);
    if (s->fd < 0)
        return;
    if (s->state == CONN_BOUND) { /* wake up for the next keep-alive step */
        int64_t due = s->enquire_seq ? s->enquire_sent_ms + s->timeout_ms
                                     : s->last_io_ms + s->enquire_ms;
        if (due - now < wait_ms)
            wait_ms = due - now;
    }
    if (wait_ms < 0)
        wait_ms = 0;
    struct pollfd pfd = {.fd = s->fd, .events = POLLIN | (s->out.len ? POLLOUT : 0)};
    int pr = poll(&pfd, 1, (int)wait_ms);
    if (pr < 0 && errno != EINTR) {
        cr__smpp_close(s, "poll failed");
        return;
    }
    if (pr <= 0)
        return;
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = recv(s->fd, s->in + s->in_len, CR_SMPP_PDU_MAX - s->in_len, 0);
        if (n == 0) {
            cr__smpp_close(s, "the SMSC closed the connection");
            return;
        }
        if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
            char why[200];
            snprintf(why, sizeof why, "read failed: %s", strerror(errno));
            cr__smpp_close(s, why);
            return;
        }
        if (n > 0) {
            s->in_len += (size_t)n;
            read_pdus(s);
        }
    }
    flush_out(s);
}

/* ------------------------------------------------------------------ connect and bind */

/* A non-blocking TCP connection to host:port within timeout_ms; -1 with err set on failure. */
static int tcp_connect(struct cr_smpp *s, struct cr_err *err)
{
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int grc = getaddrinfo(s->host, port, &hints, &ai);
    if (grc) {
        cr_err_set(err, CR_EIO, "SMPP connect to %s:%d failed: %s", s->host, s->port,
                   gai_strerror(grc));
        return -1;
    }
    int fd = -1, last_errno = 0;
    int64_t deadline = cr__smpp_now_ms() + s->timeout_ms;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int rc = connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int64_t left = deadline - cr__smpp_now_ms();
            int pr = poll(&pfd, 1, left > 0 ? (int)left : 0);
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (pr == 0)
                soerr = ETIMEDOUT;
            else if (pr < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
                soerr = errno;
            rc = soerr ? -1 : 0;
            errno = soerr;
        }
        if (rc < 0) {
            last_errno = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        cr_err_set(err, CR_EIO, "SMPP connect to %s:%d failed: %s", s->host, s->port,
                   strerror(last_errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int cr__smpp_open(struct cr_smpp *s, struct cr_err *err)
{
    cr__smpp_close(s, "reconnecting");
    int fd = tcp_connect(s, err);
    if (fd < 0)
        return CR_EIO;
    s->fd = fd;
    s->state = CONN_BINDING;
    s->bind_status = -1;
    s->unbound = 0;
    s->last_io_ms = cr__smpp_now_ms();

    uint32_t cmd = s->transceiver ? CR_SMPP_BIND_TRANSCEIVER : CR_SMPP_BIND_TRANSMITTER;
    const char *name = cr_smpp_command_name(cmd);
    struct cr_smpp_pdu p = {.command_id = cmd, .seq = cr__smpp_seq(s)};
    memcpy(p.bind.system_id, s->system_id, sizeof p.bind.system_id);
    memcpy(p.bind.password, s->password, sizeof p.bind.password);
    memcpy(p.bind.system_type, s->system_type, sizeof p.bind.system_type);
    p.bind.interface_version = CR_SMPP_VERSION;
    s->bind_seq = p.seq;
    int rc = cr__smpp_queue(s, &p, err);
    if (rc) {
        cr__smpp_close(s, "bind not encodable");
        return rc;
    }
    int64_t deadline = cr__smpp_now_ms() + s->timeout_ms;
    while (s->fd >= 0 && s->bind_status < 0) {
        int64_t left = deadline - cr__smpp_now_ms();
        if (left <= 0) {
            cr__smpp_close(s, "no bind_resp in time");
            return cr_err_set(err, CR_EIO, "SMPP %s to %s:%d: no answer in %lld s", name,
                              s->host, s->port, (long long)(s->timeout_ms / 1000));
        }
        cr__smpp_pump(s, left);
    }
    if (s->bind_status < 0)
        return cr_err_set(err, CR_EIO, "SMPP %s to %s:%d: connection lost before the answer (%s)",
                          name, s->host, s->port, s->lost);
    if (s->bind_status != CR_ESME_ROK) {
        uint32_t st = (uint32_t)s->bind_status;
        cr__smpp_close(s, "bind refused");
        return cr_err_set(err, CR_EPROTO, "SMPP %s to %s:%d refused: %s (%s) for system_id '%s'",
                          name, s->host, s->port, cr_smpp_status_name(st),
                          cr_smpp_status_text(st), s->system_id);
    }
    s->state = CONN_BOUND;
    cr_log(CR_LOG_DEBUG, NULL, "smpp: bound to %s:%d as '%s'", s->host, s->port, s->system_id);
    return 0;
}

int cr_smpp_poll(struct cr_smpp *s, int timeout_ms, struct cr_err *err)
{
    int64_t deadline = cr__smpp_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    do {
        if (s->state != CONN_BOUND) {
            int rc = cr__smpp_open(s, err);
            if (rc)
                return rc;
        }
        int64_t left = deadline - cr__smpp_now_ms();
        cr__smpp_pump(s, left > 0 ? left : 0);
    } while (cr__smpp_now_ms() < deadline);
    return 0;
}

void cr_smpp_free(struct cr_smpp *s)
{
    if (!s)
        return;
    if (s->state == CONN_BOUND) {
        struct cr_smpp_pdu p = {.command_id = CR_SMPP_UNBIND, .seq = cr__smpp_seq(s)};
        s->unbind_seq = p.seq;
        s->on_resp = NULL;
        if (cr__smpp_queue(s, &p, NULL) == 0) {
            int64_t deadline = cr__smpp_now_ms() + SMPP_UNBIND_WAIT_MS;
            while (s->fd >= 0 && !s->unbound) {
                int64_t left = deadline - cr__smpp_now_ms();
                if (left <= 0)
                    break;
                cr__smpp_pump(s, left);
            }
        }
    }
    cr__smpp_close(s, "closed by crier");
    cr_buf_release(&s->out);
    free(s->in);
    free(s);
}
