/*
 * The part of V8's serialization format that the channel's frames use (src/shared/frame-codec.ts:
 * the host writes its messages with v8.serialize and reads the agent's with v8.deserialize).
 * Reads objects, dense and sparse arrays, strings, numbers, booleans, null, undefined and Node's
 * typed arrays (DefaultSerializer's host objects); writes objects of strings, integers, null and
 * Buffers. Anything else in a frame (a date, a back-reference) is refused.
 */
#ifndef VITEST_UML_V8_WIRE_H
#define VITEST_UML_V8_WIRE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum wire_kind { W_UNDEFINED, W_NULL, W_BOOLEAN, W_NUMBER, W_STRING, W_BYTES, W_ARRAY, W_OBJECT };

struct wire_value {
  enum wire_kind kind;
  bool boolean;
  double number;
  /* W_STRING: UTF-8 with a NUL after it; W_BYTES: the bytes. */
  char *text;
  size_t length;
  /* W_ARRAY and W_OBJECT: their items (and an object's keys, UTF-8). */
  size_t count;
  char **keys;
  struct wire_value *items;
};

/* The version V8 11 (Node 20) writes; every later V8 reads it. */
#define WIRE_VERSION 15
/* Node's index of Buffer among the typed arrays it serializes as host objects. */
#define WIRE_BUFFER_TYPE 10
#define WIRE_MAX_DEPTH 64

struct wire_reader {
  const uint8_t *at;
  const uint8_t *end;
  int depth;
};

static void wire_free(struct wire_value *value) {
  for (size_t i = 0; i < value->count; i++) {
    if (value->keys) free(value->keys[i]);
    if (value->items) wire_free(&value->items[i]);
  }
  free(value->keys);
  free(value->items);
  free(value->text);
  memset(value, 0, sizeof *value);
}

static bool wire_varint(struct wire_reader *r, uint64_t *out) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (r->at >= r->end) return false;
    uint8_t byte = *r->at++;
    result |= (uint64_t)(byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      *out = result;
      return true;
    }
  }
  return false;
}

/* The next tag, past the padding bytes V8 writes to align two-byte strings. */
static bool wire_tag(struct wire_reader *r, uint8_t *tag) {
  while (r->at < r->end && *r->at == 0) r->at++;
  if (r->at >= r->end) return false;
  *tag = *r->at++;
  return true;
}

static bool wire_peek(struct wire_reader *r, uint8_t tag) {
  while (r->at < r->end && *r->at == 0) r->at++;
  if (r->at < r->end && *r->at == tag) {
    r->at++;
    return true;
  }
  return false;
}

static char *wire_utf8(const uint8_t *bytes, size_t length, size_t *out_length) {
  char *text = malloc(length + 1);
  if (!text) return NULL;
  memcpy(text, bytes, length);
  text[length] = 0;
  *out_length = length;
  return text;
}

static char *wire_latin1(const uint8_t *bytes, size_t length, size_t *out_length) {
  char *text = malloc(2 * length + 1);
  if (!text) return NULL;
  size_t n = 0;
  for (size_t i = 0; i < length; i++) {
    if (bytes[i] < 0x80) text[n++] = (char)bytes[i];
    else {
      text[n++] = (char)(0xc0 | bytes[i] >> 6);
      text[n++] = (char)(0x80 | (bytes[i] & 0x3f));
    }
  }
  text[n] = 0;
  *out_length = n;
  return text;
}

static char *wire_utf16(const uint8_t *bytes, size_t length, size_t *out_length) {
  char *text = malloc(3 * (length / 2) + 1);
  if (!text) return NULL;
  size_t n = 0;
  for (size_t i = 0; i + 1 < length; i += 2) {
    uint32_t unit = bytes[i] | bytes[i + 1] << 8;
    if (unit >= 0xd800 && unit < 0xdc00 && i + 3 < length) {
      uint32_t low = bytes[i + 2] | bytes[i + 3] << 8;
      if (low >= 0xdc00 && low < 0xe000) {
        uint32_t point = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
        text[n++] = (char)(0xf0 | point >> 18);
        text[n++] = (char)(0x80 | (point >> 12 & 0x3f));
        text[n++] = (char)(0x80 | (point >> 6 & 0x3f));
        text[n++] = (char)(0x80 | (point & 0x3f));
        i += 2;
        continue;
      }
    }
    if (unit < 0x80) text[n++] = (char)unit;
    else if (unit < 0x800) {
      text[n++] = (char)(0xc0 | unit >> 6);
      text[n++] = (char)(0x80 | (unit & 0x3f));
    } else {
      text[n++] = (char)(0xe0 | unit >> 12);
      text[n++] = (char)(0x80 | (unit >> 6 & 0x3f));
      text[n++] = (char)(0x80 | (unit & 0x3f));
    }
  }
  text[n] = 0;
  *out_length = n;
  return text;
}

static bool wire_value_at(struct wire_reader *r, struct wire_value *value);

/* A property key: a string, or an integer index (sparse arrays, numeric keys), as text. */
static bool wire_key(struct wire_reader *r, char **key) {
  struct wire_value k = {0};
  if (!wire_value_at(r, &k)) return false;
  if (k.kind == W_STRING) {
    *key = k.text;
    k.text = NULL;
    wire_free(&k);
    return true;
  }
  bool ok = k.kind == W_NUMBER;
  double number = k.number;
  wire_free(&k);
  if (!ok || !(*key = malloc(24))) return false;
  snprintf(*key, 24, "%.0f", number);
  return true;
}

static bool wire_add(struct wire_value *value, size_t *capacity, char *key, struct wire_value *item) {
  if (value->count == *capacity) {
    size_t grown = *capacity ? 2 * *capacity : 8;
    struct wire_value *items = realloc(value->items, grown * sizeof *items);
    if (!items) return false;
    value->items = items;
    if (value->kind == W_OBJECT) {
      char **keys = realloc(value->keys, grown * sizeof *keys);
      if (!keys) return false;
      value->keys = keys;
    }
    *capacity = grown;
  }
  if (value->kind == W_OBJECT) value->keys[value->count] = key;
  value->items[value->count++] = *item;
  return true;
}

/* An object's properties (or an array's extra ones) up to the tag that ends them, then its counts. */
static bool wire_properties(struct wire_reader *r, struct wire_value *value, uint8_t end, int counts) {
  size_t capacity = value->count;
  while (!wire_peek(r, end)) {
    char *key = NULL;
    struct wire_value item = {0};
    if (!wire_key(r, &key)) return false;
    if (!wire_value_at(r, &item)) {
      free(key);
      return false;
    }
    if (value->kind == W_OBJECT) {
      if (!wire_add(value, &capacity, key, &item)) return false;
      continue;
    }
    /* An array's element given by index (sparse arrays) is kept; other properties are not. */
    char *rest;
    unsigned long index = strtoul(key, &rest, 10);
    bool is_index = *rest == 0 && index < value->count;
    free(key);
    if (is_index) {
      wire_free(&value->items[index]);
      value->items[index] = item;
    } else wire_free(&item);
  }
  uint64_t ignored;
  for (int i = 0; i < counts; i++)
    if (!wire_varint(r, &ignored)) return false;
  return true;
}

static bool wire_value_at(struct wire_reader *r, struct wire_value *value) {
  uint8_t tag;
  uint64_t n;
  memset(value, 0, sizeof *value);
  if (r->depth > WIRE_MAX_DEPTH || !wire_tag(r, &tag)) return false;
  switch (tag) {
    case '_': value->kind = W_UNDEFINED; return true;
    case '-': value->kind = W_UNDEFINED; return true; /* an array's hole */
    case '0': value->kind = W_NULL; return true;
    case 'T':
    case 'F':
      value->kind = W_BOOLEAN;
      value->boolean = tag == 'T';
      return true;
    case 'I':
      if (!wire_varint(r, &n)) return false;
      value->kind = W_NUMBER;
      value->number = (double)(int64_t)((n >> 1) ^ (~(n & 1) + 1));
      return true;
    case 'U':
      if (!wire_varint(r, &n)) return false;
      value->kind = W_NUMBER;
      value->number = (double)n;
      return true;
    case 'N':
      if (r->end - r->at < 8) return false;
      value->kind = W_NUMBER;
      memcpy(&value->number, r->at, 8);
      r->at += 8;
      return true;
    case '"':
    case 'c':
    case 'S': {
      if (!wire_varint(r, &n) || n > (uint64_t)(r->end - r->at)) return false;
      value->kind = W_STRING;
      value->text = tag == '"'   ? wire_latin1(r->at, n, &value->length)
                    : tag == 'c' ? wire_utf16(r->at, n, &value->length)
                                 : wire_utf8(r->at, n, &value->length);
      r->at += n;
      return value->text != NULL;
    }
    case '\\': {
      uint64_t type;
      if (!wire_varint(r, &type) || !wire_varint(r, &n) || n > (uint64_t)(r->end - r->at)) return false;
      value->kind = W_BYTES;
      if (!(value->text = malloc(n ? n : 1))) return false;
      memcpy(value->text, r->at, n);
      value->length = n;
      r->at += n;
      return true;
    }
    case 'o': {
      value->kind = W_OBJECT;
      r->depth++;
      bool ok = wire_properties(r, value, '{', 1);
      r->depth--;
      return ok;
    }
    case 'A':
    case 'a': {
      /* Each element takes at least a byte: a longer array is a corrupt frame. */
      if (!wire_varint(r, &n) || n > (uint64_t)(r->end - r->at) + (tag == 'a' ? 65536 : 0)) return false;
      value->kind = W_ARRAY;
      if (n && !(value->items = calloc(n, sizeof *value->items))) return false;
      value->count = n;
      r->depth++;
      bool ok = true;
      for (size_t i = 0; ok && tag == 'A' && i < n; i++) ok = wire_value_at(r, &value->items[i]);
      ok = ok && wire_properties(r, value, tag == 'A' ? '$' : '@', 2);
      r->depth--;
      return ok;
    }
    default:
      return false;
  }
}

/* Decodes a frame's payload (header and one value); false when it is not one this file reads. */
static bool wire_decode(const uint8_t *payload, size_t length, struct wire_value *value) {
  struct wire_reader r = {payload, payload + length, 0};
  uint64_t version;
  if (!wire_peek(&r, 0xff) || !wire_varint(&r, &version)) return false;
  if (wire_value_at(&r, value)) return true;
  wire_free(value);
  return false;
}

/* A property of an object, or NULL. */
static const struct wire_value *wire_get(const struct wire_value *object, const char *key) {
  if (!object || object->kind != W_OBJECT) return NULL;
  for (size_t i = 0; i < object->count; i++)
    if (strcmp(object->keys[i], key) == 0) return &object->items[i];
  return NULL;
}

static const char *wire_string(const struct wire_value *object, const char *key) {
  const struct wire_value *value = wire_get(object, key);
  return value && value->kind == W_STRING ? value->text : NULL;
}

static double wire_number(const struct wire_value *object, const char *key, double otherwise) {
  const struct wire_value *value = wire_get(object, key);
  return value && value->kind == W_NUMBER ? value->number : otherwise;
}

static bool wire_true(const struct wire_value *object, const char *key) {
  const struct wire_value *value = wire_get(object, key);
  return value && value->kind == W_BOOLEAN && value->boolean;
}

/* --- Writing ----------------------------------------------------------------------------------- */

struct wire_out {
  uint8_t *data;
  size_t length;
  size_t capacity;
};

/* Makes room for `needed` bytes in a buffer of `*capacity`, doubling from `first`; no memory is fatal. */
static void wire_reserve(uint8_t **data, size_t *capacity, size_t needed, size_t first) {
  if (needed <= *capacity) return;
  size_t grown = *capacity ? *capacity : first;
  while (grown < needed) grown *= 2;
  uint8_t *bigger = realloc(*data, grown);
  if (!bigger) abort();
  *data = bigger;
  *capacity = grown;
}

static void wire_put(struct wire_out *out, const void *bytes, size_t length) {
  wire_reserve(&out->data, &out->capacity, out->length + length, 256);
  memcpy(out->data + out->length, bytes, length);
  out->length += length;
}

static void wire_put_byte(struct wire_out *out, uint8_t byte) { wire_put(out, &byte, 1); }

static void wire_put_varint(struct wire_out *out, uint64_t n) {
  do {
    wire_put_byte(out, (uint8_t)((n & 0x7f) | (n > 0x7f ? 0x80 : 0)));
    n >>= 7;
  } while (n);
}

/* A frame starts: room for its length, then V8's header and an object. */
static void wire_begin_frame(struct wire_out *out) {
  out->length = 0;
  wire_put(out, "\0\0\0\0", 4);
  wire_put_byte(out, 0xff);
  wire_put_byte(out, WIRE_VERSION);
  wire_put_byte(out, 'o');
}

/* The object ends after `properties` properties; the frame's length goes in front. */
static void wire_end_frame(struct wire_out *out, unsigned properties) {
  wire_put_byte(out, '{');
  wire_put_varint(out, properties);
  uint32_t length = (uint32_t)(out->length - 4);
  uint8_t header[4] = {length >> 24, length >> 16 & 0xff, length >> 8 & 0xff, length & 0xff};
  memcpy(out->data, header, 4);
}

static void wire_put_string(struct wire_out *out, const char *text, size_t length) {
  bool ascii = true;
  for (size_t i = 0; i < length && ascii; i++) ascii = (uint8_t)text[i] < 0x80;
  wire_put_byte(out, ascii ? '"' : 'S');
  wire_put_varint(out, length);
  wire_put(out, text, length);
}

static void wire_put_key(struct wire_out *out, const char *key) { wire_put_string(out, key, strlen(key)); }

static void wire_put_int(struct wire_out *out, int32_t n) {
  wire_put_byte(out, 'I');
  wire_put_varint(out, ((uint32_t)n << 1) ^ (uint32_t)(n >> 31));
}

static void wire_put_null(struct wire_out *out) { wire_put_byte(out, '0'); }

static void wire_put_bytes(struct wire_out *out, const void *bytes, size_t length) {
  wire_put_byte(out, '\\');
  wire_put_varint(out, WIRE_BUFFER_TYPE);
  wire_put_varint(out, length);
  wire_put(out, bytes, length);
}

#endif
