/*
 * cmd_account_routing.c - the options of `crier account add routing` (external deliveries:
 * an extraction file exported to a folder or an SFTP server)
 *
 * The SSH key's contents and the password are stored as secrets (the key file may be removed
 * afterwards); the host key fingerprint, when not given, is pinned at the first export.
 */
#include "cli/cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The placeholders a file name may hold; anything else in braces is a mistake. */
static int check_pattern(const char *p)
{
    static const char *const known[] = {"{delivery}", "{label}", "{date}", "{time}", "{ext}", NULL};
    for (const char *c = p; *c; c++) {
        if (*c == '/')
            return cli_error("--file-name '%s': a file name, without '/'", p);
        if (*c != '{')
            continue;
        int ok = 0;
        for (int i = 0; known[i] && !ok; i++)
            ok = strncmp(c, known[i], strlen(known[i])) == 0;
        if (!ok)
            return cli_error("--file-name '%s': unknown placeholder at '%.12s' ({delivery}, "
                             "{label}, {date}, {time}, {ext})",
                             p, c);
    }
    return CLI_OK;
}

int cli_account_routing(struct cli_args *a, json_t *settings, json_t *secrets, const char **channel)
{
    const char *ch = NULL, *mode = "external", *target = NULL, *key = NULL, *penv = NULL;
    const char *fp = NULL, *pattern = NULL, *app = NULL, *platform = NULL;
    if (cli_opt(a, "--channel", &ch) < 0 || cli_opt(a, "--mode", &mode) < 0 ||
        cli_opt(a, "--export", &target) < 0 || cli_opt(a, "--ssh-key", &key) < 0 ||
        cli_opt(a, "--password-env", &penv) < 0 || cli_opt(a, "--host-key-sha256", &fp) < 0 ||
        cli_opt(a, "--file-name", &pattern) < 0 || cli_opt(a, "--app", &app) < 0 ||
        cli_opt(a, "--platform", &platform) < 0)
        return CLI_FAIL;
    if (!ch || (strcmp(ch, "email") && strcmp(ch, "sms") && strcmp(ch, "push")))
        return cli_error("a routing account needs --channel email, sms or push");
    if (strcmp(mode, "external") != 0)
        return cli_error("--mode is external for a routing account (bulk sending has its own "
                         "account kinds), not '%s'",
                         mode);
    if (!target || !*target)
        return cli_error("a routing account needs --export DIR or sftp://user@host[:port]/dir");
    int sftp = strncmp(target, "sftp://", 7) == 0;
    if (!sftp && strstr(target, "://"))
        return cli_error("--export '%s': a folder or an sftp:// URL", target);
    if (sftp && !key && !penv)
        return cli_error("an sftp export needs --ssh-key FILE or --password-env VAR");
    if (!sftp && (key || penv || fp))
        return cli_error("--ssh-key, --password-env and --host-key-sha256 are for sftp://");
    if (pattern && check_pattern(pattern))
        return CLI_FAIL;
    if (strcmp(ch, "push") == 0) {
        if (!app || !platform || (strcmp(platform, "ios") && strcmp(platform, "android")))
            return cli_error("a push routing account needs --app APP and --platform ios|android");
        json_object_set_new(settings, "app", json_string(app));
        json_object_set_new(settings, "platform", json_string(platform));
    } else if (app || platform) {
        return cli_error("--app and --platform are for --channel push");
    }
    if (sftp) {
        json_object_set_new(settings, "export", json_string(target));
    } else {
        char *abs = realpath(target, NULL);
        if (!abs)
            return cli_error("--export %s: no such folder", target);
        json_object_set_new(settings, "export", json_string(abs));
        free(abs);
    }
    if (key) {
        struct cr_buf pem = CR_BUF_INIT(64 * 1024);
        if (cli_read_file(key, &pem))
            return CLI_FAIL;
        json_object_set_new(secrets, "ssh_key", json_string(pem.data));
        cr_buf_release(&pem);
    }
    if (penv) {
        const char *pw = getenv(penv);
        if (!pw)
            return cli_error("--password-env %s: that environment variable is not set", penv);
        json_object_set_new(secrets, "password", json_string(pw));
    }
    if (fp) {
        if (strncmp(fp, "SHA256:", 7) == 0)
            fp += 7;
        size_t n = strlen(fp);
        while (n && fp[n - 1] == '=')
            n--;
        if (n != 43 ||
            strspn(fp, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") < n)
            return cli_error("--host-key-sha256 '%s': a SHA-256 fingerprint as ssh-keygen -l -E "
                             "sha256 prints it (43 base64 characters)",
                             fp);
        json_object_set_new(settings, "host_key_sha256", json_stringn(fp, n));
    }
    json_object_set_new(settings, "file_name",
                        json_string(pattern ? pattern : "crier-{delivery}-{date}-{time}.{ext}"));
    *channel = ch;
    return CLI_OK;
}
