/*
 * json_esc.h - append a JSON string literal (quotes included) to a buffer
 *
 * For hot paths and logging that do not build a jansson tree. Invalid UTF-8 bytes are
 * replaced by U+FFFD so the output is always valid JSON.
 */
#ifndef CR_JSON_ESC_H
#define CR_JSON_ESC_H

#include <stddef.h>

#include "core/buf.h"

int cr_json_escape(struct cr_buf *b, const char *s, size_t n);

#endif
