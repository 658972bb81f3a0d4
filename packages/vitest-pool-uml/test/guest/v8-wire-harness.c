/*
 * Drives src/guest/v8-wire.h for v8-wire.test.ts. `decode`: reads one V8-serialized value from
 * stdin and prints it as JSON (bytes as {"bytes": hex}, undefined as {"undefined": true}), or
 * "refused". `encode`: writes a frame made with the writer's every kind of value.
 */
#include "../../src/guest/v8-wire.h"

static void print_string(const char *text, size_t length) {
  putchar('"');
  for (size_t i = 0; i < length; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static void print_value(const struct wire_value *value) {
  switch (value->kind) {
    case W_UNDEFINED: printf("{\"undefined\":true}"); break;
    case W_NULL: printf("null"); break;
    case W_BOOLEAN: printf(value->boolean ? "true" : "false"); break;
    case W_NUMBER: printf("%.17g", value->number); break;
    case W_STRING: print_string(value->text, value->length); break;
    case W_BYTES:
      printf("{\"bytes\":\"");
      for (size_t i = 0; i < value->length; i++) printf("%02x", (unsigned char)value->text[i]);
      printf("\"}");
      break;
    case W_ARRAY:
    case W_OBJECT:
      putchar(value->kind == W_ARRAY ? '[' : '{');
      for (size_t i = 0; i < value->count; i++) {
        if (i) putchar(',');
        if (value->kind == W_OBJECT) {
          print_string(value->keys[i], strlen(value->keys[i]));
          putchar(':');
        }
        print_value(&value->items[i]);
      }
      putchar(value->kind == W_ARRAY ? ']' : '}');
      break;
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "encode") == 0) {
    struct wire_out out = {0};
    wire_begin_frame(&out);
    wire_put_key(&out, "ascii");
    wire_put_string(&out, "hello", 5);
    wire_put_key(&out, "utf8");
    wire_put_string(&out, "\xc3\xa9\xe2\x82\xac", 5);
    wire_put_key(&out, "small");
    wire_put_int(&out, -5);
    wire_put_key(&out, "large");
    wire_put_int(&out, 2147483647);
    wire_put_key(&out, "none");
    wire_put_null(&out);
    wire_put_key(&out, "bytes");
    wire_put_bytes(&out, "\x00\x01\xff", 3);
    wire_end_frame(&out, 6);
    fwrite(out.data, 1, out.length, stdout);
    return 0;
  }
  static uint8_t payload[1 << 20];
  size_t length = fread(payload, 1, sizeof payload, stdin);
  struct wire_value value;
  if (!wire_decode(payload, length, &value)) {
    printf("refused");
    return 0;
  }
  print_value(&value);
  wire_free(&value);
  return 0;
}
