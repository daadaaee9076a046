/*
 * export.c - cr_export_file(): checks the name, sends sftp:// targets to export_sftp.c and
 *            writes everything else into a local folder, atomically
 *
 * Local folder: the file is copied to ".NAME.part" in the folder (a dot name, so consumers
 * that skip hidden files never pick it up; one left by a crash is truncated and reused), the
 * copy is fsync()ed, renamed to NAME (replacing an older NAME) and the folder is fsync()ed so
 * the rename survives a power cut. On any failure the temporary file is removed, so a full
 * disk leaves neither name behind. Nothing else is created: a missing folder is an error,
 * not a mkdir.
 */
#include "channel/external/export.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "channel/external/export_int.h"
#include "core/mem.h"

#define COPY_CHUNK (256u << 10)
#define PART_SUFFIX ".part"

/* A plain file name that fits the temporary names here and on an SFTP server. */
static int check_name(const char *name, struct cr_err *err)
{
    if (!name || !*name)
        return cr_err_set(err, CR_EINVAL, "export file name is empty");
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return cr_err_set(err, CR_EINVAL, "export file name '%s' is not a file name", name);
    if (strlen(name) + 1 + strlen(PART_SUFFIX) > NAME_MAX)
        return cr_err_set(err, CR_EINVAL,
                          "export file name '%.40s...' is too long (%d bytes at most)", name,
                          (int)(NAME_MAX - 1 - strlen(PART_SUFFIX)));
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p == '/')
            return cr_err_set(err, CR_EINVAL,
                              "export file name '%s' holds a '/' (give the folder in the target)",
                              name);
        if (*p < 0x20 || *p == 0x7f)
            return cr_err_set(err, CR_EINVAL,
                              "export file name holds a control character (0x%02x at byte %d)", *p,
                              (int)(p - (const unsigned char *)name) + 1);
    }
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Copies src to fd; on failure returns -1 with errno set and *reading telling which side. */
static int copy_fd(int src, int fd, int *reading)
{
    char *chunk = cr_xmalloc(COPY_CHUNK);
    int rc = 0;
    for (;;) {
        ssize_t n = read(src, chunk, COPY_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *reading = 1;
            rc = n < 0 ? -1 : 0;
            break;
        }
        if (write_all(fd, chunk, (size_t)n)) {
            *reading = 0;
            rc = -1;
            break;
        }
    }
    int saved = errno;
    free(chunk);
    errno = saved;
    return rc;
}

static int export_local(const char *folder, const char *path, const char *name, struct cr_err *err)
{
    int src = open(path, O_RDONLY | O_CLOEXEC);
    if (src < 0)
        return cr_err_set(err, CR_EIO, "%s: opening the file to export %s: %s", folder, path,
                          strerror(errno));
    int dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        int e = errno;
        close(src);
        return cr_err_set(err, CR_EIO, "%s: opening the export folder: %s", folder, strerror(e));
    }
    char tmp[NAME_MAX + 2];
    snprintf(tmp, sizeof tmp, ".%s" PART_SUFFIX, name);
    int rc = 0;
    int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) {
        rc = cr_err_set(err, CR_EIO, "%s: creating %s: %s", folder, tmp, strerror(errno));
        goto out;
    }
    int reading = 0;
    if (copy_fd(src, fd, &reading)) {
        if (reading)
            rc = cr_err_set(err, CR_EIO, "%s: reading %s: %s", folder, path, strerror(errno));
        else
            rc = cr_err_set(err, CR_EIO, "%s: writing %s: %s", folder, tmp, strerror(errno));
    } else if (fsync(fd)) {
        rc = cr_err_set(err, CR_EIO, "%s: syncing %s: %s", folder, tmp, strerror(errno));
    }
    /* close() reports late write errors on some file systems (NFS). */
    if (close(fd) && !rc)
        rc = cr_err_set(err, CR_EIO, "%s: closing %s: %s", folder, tmp, strerror(errno));
    if (!rc && renameat(dir, tmp, dir, name))
        rc = cr_err_set(err, CR_EIO, "%s: renaming %s to %s: %s", folder, tmp, name,
                        strerror(errno));
    if (rc) {
        unlinkat(dir, tmp, 0);
        goto out;
    }
    /* Without this the rename may not survive a crash; if it cannot be made durable, the
     * export failed and, as promised, no file stays under the final name. */
    if (fsync(dir)) {
        rc = cr_err_set(err, CR_EIO, "%s: syncing the folder after renaming %s to %s: %s", folder,
                        tmp, name, strerror(errno));
        unlinkat(dir, name, 0);
    }
out:
    close(dir);
    close(src);
    return rc;
}

int cr_export_file(const struct cr_export_target *t, const char *path, const char *name,
                   char **seen_host_key, struct cr_err *err)
{
    if (seen_host_key)
        *seen_host_key = NULL;
    if (!t || !t->url || !*t->url)
        return cr_err_set(err, CR_EINVAL, "export target has no folder or sftp:// URL");
    if (!path)
        return cr_err_set(err, CR_EINVAL, "export of '%s': no file given", name ? name : "");
    int rc = check_name(name, err);
    if (rc)
        return rc;
    if (!strncmp(t->url, "sftp://", 7))
        return cr__export_sftp(t, path, name, seen_host_key, err);
    size_t scheme = strspn(t->url, "abcdefghijklmnopqrstuvwxyz+-.");
    if (scheme > 0 && !strncmp(t->url + scheme, "://", 3))
        return cr_err_set(err, CR_EINVAL,
                          "export target '%s': unsupported scheme (a folder or sftp://)", t->url);
    return export_local(t->url, path, name, err);
}
