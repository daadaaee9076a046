/*
 * export.h - delivering a finished extraction file to its target, atomically: a local folder
 *            (written under a temporary name, synced, renamed) or an SFTP server (uploaded
 *            under a temporary name, then renamed on the server), so a consumer never sees
 *            half a file
 *
 * Targets: "/abs/dir" (or a relative one) and "sftp://user@host[:port]/path/dir" with a key
 * file or a password. The SFTP server's host key is checked against a pinned SHA-256
 * fingerprint (base64, as `ssh-keygen -l -E sha256` prints it without the "SHA256:" prefix,
 * which is also accepted); with none pinned, the key seen at the first connection is accepted
 * and returned so the caller can record it (trust on first use), and a later different key is
 * refused: "host key of 127.0.0.1:2222 changed: SHA256:abc… is not the pinned SHA256:def…".
 *
 * Upload and rename go through libcurl (sftp, libssh2 backend). Errors name the target and
 * the step: "sftp://crier@127.0.0.1:2222/in: upload of f.csv.part: Permission denied".
 */
#ifndef CR_EXPORT_H
#define CR_EXPORT_H

#include "core/err.h"

struct cr_export_target {
    const char *url;              /* a folder path or sftp://user@host[:port]/dir */
    const char *key_file;         /* sftp: a private key file (OpenSSH or PEM), or NULL */
    const char *password;         /* sftp: a password, or NULL */
    const char *host_key_sha256;  /* sftp: the pinned fingerprint, or NULL (trust on first use) */
    int timeout_secs;             /* connect and transfer (0: 60) */
};

/*
 * Copies the local file at path to the target as name (a plain file name, no '/'), atomically.
 * On success, *seen_host_key (when not NULL) receives the server's SHA-256 fingerprint
 * (malloc'd, base64 without padding; NULL for a folder), which the caller pins when none was.
 * Returns 0; CR_EIO for a network, disk or permission failure (retry later); CR_EPERM for a
 * refused login or a changed host key (retrying will not help until someone acts); CR_EINVAL
 * for a bad target URL or name. A failed export leaves no file under the final name.
 * An existing file under the final name is replaced (on SFTP it is removed just before the
 * rename, as OpenSSH's rename does not replace). CR_EINVAL also covers a password inside the
 * URL (refused, never printed), neither key file nor password, an unreadable key file and a
 * pinned value that is not a SHA-256 fingerprint.
 * Key files: ed25519 or ECDSA; with libssh2 1.10 an RSA key only logs in to servers that
 * still accept ssh-rsa (SHA-1) signatures, which OpenSSH >= 8.8 does not by default.
 */
int cr_export_file(const struct cr_export_target *t, const char *path, const char *name,
                   char **seen_host_key, struct cr_err *err) CR_WARN_UNUSED;

#endif
