/*
 * export_int.h - what export.c and export_sftp.c share (channel/external only)
 */
#ifndef CR_EXPORT_INT_H
#define CR_EXPORT_INT_H

#include "channel/external/export.h"

/* Uploads path to the SFTP target t as name (already checked by cr_export_file) under
 * name.part, then renames it on the server. Same contract as cr_export_file. */
int cr__export_sftp(const struct cr_export_target *t, const char *path, const char *name,
                    char **seen_host_key, struct cr_err *err) CR_WARN_UNUSED;

#endif
