/*
 * fuzz.h - the entry point every fuzz_<name>.c defines (libFuzzer's, and replay_main.c's)
 */
#ifndef CR_FUZZ_H
#define CR_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
