/* tribe/id.h: customer ids, parsed one way and printed one way (docs/ingest.md).
 *
 * A customer has an int64 id, which every stage keys on (sorting, sharding,
 * joins, continuity matching). With integer ids (tribe's default) the id is
 * the number itself. With string ids (`tribe ingest --id-type string`) the
 * id is a deterministic non-negative 63-bit key of the text, and the text is
 * kept beside it (tribe_table.id_text, customers.h5 and results.h5
 * /.../id_text) and printed wherever an id is printed.
 *
 * The key of a text (tribe_id_key) is exact, two different texts never
 * sharing one, for:
 *   - a canonical decimal number: "0" or 1 to 18 digits without a leading
 *     zero: the key is the number (so "17850" has the same id in both modes);
 *   - any other text of at most 7 bytes;
 *   - 8 to 10 characters of [0-9A-Za-z-];
 * every other text gets a 61-bit hash, and two different texts of one input
 * with the same key are refused by ingest (INPUT naming both).
 *
 * Usage:
 *     int64_t key;  char why[160];
 *     int r = tribe_id_parse(cell, n, string_ids, &key, why, sizeof why); // 1 id, 0 empty, -1 bad
 *     char buf[TRIBE_ID_BUF];
 *     printf("%s\n", tribe_id_format(text_or_NULL, key, buf));
 * Nothing here allocates. Not collective.
 */
#ifndef TRIBE_ID_H
#define TRIBE_ID_H

#include "tribe/core.h"

/* Longest string id, in bytes of UTF-8 (after trimming blanks). */
#define TRIBE_ID_MAX 64
/* Room for any printed id and its NUL (a string id, or an int64). */
#define TRIBE_ID_BUF (TRIBE_ID_MAX + 1)

/* The key of a string id s[0, n) (not trimmed or checked: see
 * tribe_id_parse), in [0, 2^63). */
int64_t tribe_id_key(const char *s, size_t n);

/* The 6-bit code of c in the 63-symbol alphabet [0-9A-Za-z] + sym63:
 * 1..10 digits, 11..36 upper case, 37..62 lower case, 63 sym63; 0 for any
 * other byte. Not collective. */
int tribe_code6(unsigned char c, char sym63);
/* s[0, n) (n <= 10) packed 6 bits a character, the first highest: 1 and *k
 * when every byte is in the alphabet, else 0. Injective for a given sym63
 * (codes are never 0, so lengths cannot be confused). Shared by the string
 * id keys (sym63 '-') and ingest's text keys (sym63 ' '). Not collective. */
int tribe_pack6(const char *s, size_t n, char sym63, uint64_t *k);

/* 1 when s[0, n) is a valid string id: 1..TRIBE_ID_MAX bytes of valid UTF-8
 * without control characters; else 0 with the reason in why (may be NULL). */
int tribe_id_check(const char *s, size_t n, char *why, size_t cap);

/* A customer id cell, trimmed of blanks and tabs. Integer mode
 * (string_ids 0): a non-negative integer, also written with a zero fraction
 * ("17850.0"); *key = the number. String mode: a valid string id
 * (tribe_id_check); *key = tribe_id_key. Returns 1 parsed, 0 empty, -1
 * malformed with why ("CustomerID '<text>' is ...", cut to 40 bytes). */
int tribe_id_parse(const char *s, size_t n, int string_ids, int64_t *key, char *why, size_t cap);

/* The keys a customer named by a user (a command-line option, a URL path, a
 * CSV cell) may have, most likely first: in integer mode the number (also
 * "17850.0"); in string mode the text's key, then, for a number written
 * another way ("17850.0", "017850" is a text of its own), the number's.
 * Returns how many keys were written to keys[2] (0: not an id). */
int tribe_id_lookup_keys(const char *s, int string_ids, int64_t keys[2]);

/* The printed form of a customer: its text when it has one (text not NULL),
 * else the integer id. Writes into buf and returns it. */
const char *tribe_id_format(const char *text, int64_t id, char buf[TRIBE_ID_BUF]);

/* Test hook: keys of hashed texts keep only their low `bits` bits (1..61;
 * 0 restores the default 61), so a test can make two texts collide. The
 * environment's TRIBE_TEST_ID_HASH_BITS sets it at the first key. */
void tribe_id_set_hash_bits(int bits);

#endif
