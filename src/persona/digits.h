/* Internal to src/persona: decimal digits of any script in UTF-8 text, for
 * the grounding scanner (ground.c). A number written "９８７６５４"
 * (fullwidth), "٤٣٢١" (Arabic-Indic) or "४३२१" (Devanagari) is the same
 * number as its ASCII digits.
 *
 * Not collective; no allocation; nothing here reads past text[n - 1].
 */
#ifndef TRIBE_PERSONA_DIGITS_H
#define TRIBE_PERSONA_DIGITS_H

#include <stddef.h>
#include <stdint.h>

#define TRIBE_UTF8_INVALID 0xffffffffu

/* Decodes the character at text[i] (i < n): returns its length in bytes,
 * with *cp its code point; an invalid, overlong or cut sequence returns 1
 * with *cp = TRIBE_UTF8_INVALID, so the next byte is read again on its own
 * (a stray 0xE2 before "9" does not swallow the 9). */
size_t tribe_utf8_next(const char *text, size_t n, size_t i, uint32_t *cp);
/* 0..9 when cp is a decimal digit (Unicode general category Nd) of any
 * script, else -1. */
int tribe_nd_digit(uint32_t cp);
/* The digit at text[i] (0..9) or -1; *len is the character's length in
 * bytes (1 for an invalid byte, 0 when i >= n). */
int tribe_digit_at(const char *text, size_t n, size_t i, size_t *len);

#endif
