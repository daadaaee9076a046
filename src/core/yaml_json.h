/*
 * yaml_json.h - YAML (libyaml) into jansson values, and loading a JSON-or-YAML file
 *
 * Workflow definitions are JSON; people may write them in YAML. A YAML document becomes one
 * json_t, so the rest of crier handles one representation.
 *
 * Mappings become objects, sequences arrays. A key is the text of a scalar (`1: x` gives the
 * key "1"); a collection as a key or a duplicate key is an error. Plain (unquoted), untagged
 * scalars resolve by the YAML 1.2 core schema:
 *   null, Null, NULL, ~, empty            -> null
 *   true/True/TRUE, false/False/FALSE     -> boolean (yes/no/on/off stay strings: YAML 1.1)
 *   [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+  -> integer (outside int64: error, quote it)
 *   [-+]?(.[0-9]+|[0-9]+(.[0-9]*)?)([eE][-+]?[0-9]+)?  -> real (overflow: error)
 *   .inf, -.inf, .nan (any case form)     -> error: JSON has no such numbers
 *   anything else                         -> string
 * Quoted and block (| >) scalars are strings. Tags !!str !!int !!float !!bool !!null force
 * the type (the text must fit it, quoted or not), !!map and !!seq are accepted on their kind,
 * the non-specific "!" makes a string; any other tag is an error. No merge keys: `<<` is an
 * ordinary key. Strings must not contain NUL ("\0"), as with jansson's defaults.
 *
 * Anchors and aliases are supported; an alias is a deep copy of its anchored node (the result
 * is a tree: changing one copy leaves the others alone). Limits, counted after expanding
 * aliases, so "billion laughs" stops early with CR_ETOOBIG: CR_YAML_MAX_NODES values,
 * CR_YAML_MAX_BYTES bytes of strings and keys, CR_YAML_MAX_DEPTH levels of nesting.
 *
 * The input is exactly one document: an empty stream or a second document is an error.
 *
 * Errors: CR_ESYNTAX for what is not well-formed (libyaml's messages, duplicate or
 * non-scalar keys, unknown or recursive aliases, document count); CR_EINVAL for well-formed
 * YAML that has no JSON value here (tags, out-of-range numbers, .inf/.nan, NUL); CR_ETOOBIG
 * for the limits. err->line/err->col (1-based; columns count characters) say where.
 */
#ifndef CR_YAML_JSON_H
#define CR_YAML_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "core/err.h"

#define CR_YAML_MAX_NODES 100000
#define CR_YAML_MAX_BYTES (16u << 20)
#define CR_YAML_MAX_DEPTH 128
/* cr_load_json_or_yaml_file() refuses larger files with CR_ETOOBIG. */
#define CR_YAML_MAX_FILE (16u << 20)

/* Where each value came from: a side table keyed by json_t pointer (and, for the position of
 * an object's key, by object pointer and key). Valid while the value it describes is alive and
 * unchanged. null, true and false are shared singletons in jansson and have no position: use
 * the key's (cr_yaml_pos_get_key) or the parent's. */
struct cr_yaml_pos;

/* Parses one YAML document (text of len bytes, need not be NUL-terminated) into a new value
 * (*out, the caller's reference). On error *out is NULL. */
int cr_yaml_to_json(const char *text, size_t len, json_t **out, struct cr_err *err);
/* As cr_yaml_to_json, and *pos (if pos is not NULL) receives a new position table, freed by
 * cr_yaml_pos_free(). On error *pos is NULL. */
int cr_yaml_to_json_pos(const char *text, size_t len, json_t **out, struct cr_yaml_pos **pos,
                        struct cr_err *err);
/* The 1-based line and column where node starts: 0, or CR_ENOTFOUND (and 0, 0). */
int cr_yaml_pos_get(const struct cr_yaml_pos *pos, const json_t *node, int *line, int *col);
/* Where the key `key` of object obj is written: 0, or CR_ENOTFOUND (and 0, 0). */
int cr_yaml_pos_get_key(const struct cr_yaml_pos *pos, const json_t *obj, const char *key,
                        int *line, int *col);
void cr_yaml_pos_free(struct cr_yaml_pos *pos);

/* Loads a file: JSON when its name ends in .json, YAML when .yaml or .yml (any case), else
 * JSON if its first non-blank character is '{' or '[', YAML otherwise. JSON is read with
 * jansson (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY). Error messages start with the path and
 * position ("wf.yaml:3:7: duplicate key 'id' in a mapping"); err->line/col are set too.
 * Unreadable file: CR_ENOTFOUND (missing) or CR_EIO. */
int cr_load_json_or_yaml_file(const char *path, json_t **out, struct cr_err *err);
/* As cr_load_json_or_yaml_file, with positions for a YAML file; *pos is NULL for JSON (and on
 * error). pos may be NULL. */
int cr_load_json_or_yaml_file_pos(const char *path, json_t **out, struct cr_yaml_pos **pos,
                                  struct cr_err *err);

#endif
