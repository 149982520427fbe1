/* json.c: the one JSON Lines writer of kmsdiag. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag_out.h>

#include "internal/buf.h"
#include "internal/utf8.h"

#define JSON_MAX_DEPTH 64

struct kmsdiag_json {
  kd_buf_t buf;
  kmsdiag_status_t err;
  int depth;                        /* open containers */
  char kind[JSON_MAX_DEPTH];        /* 'o' object or 'a' array */
  unsigned char count[JSON_MAX_DEPTH]; /* 0 = no member yet, 1 = some */
  int top_done;                     /* a top-level value is complete */
};

kmsdiag_status_t kmsdiag_json_new(kmsdiag_json_t **out) {
  kmsdiag_json_t *j;
  if (!out)
    return KMSDIAG_EINVAL;
  j = calloc(1, sizeof *j);
  if (!j)
    return KMSDIAG_ENOMEM;
  kd_buf_init(&j->buf);
  *out = j;
  return KMSDIAG_OK;
}

void kmsdiag_json_free(kmsdiag_json_t *j) {
  if (!j)
    return;
  kd_buf_free(&j->buf);
  free(j);
}

void kmsdiag_json_reset(kmsdiag_json_t *j) {
  if (!j)
    return;
  kd_buf_reset(&j->buf);
  j->err = KMSDIAG_OK;
  j->depth = 0;
  j->top_done = 0;
}

kmsdiag_status_t kmsdiag_json_status(const kmsdiag_json_t *j) {
  if (!j)
    return KMSDIAG_EINVAL;
  if (j->err == KMSDIAG_OK && j->buf.err)
    return KMSDIAG_ENOMEM;
  return j->err;
}

const char *kmsdiag_json_text(const kmsdiag_json_t *j, size_t *len) {
  if (len)
    *len = j && j->buf.data ? j->buf.len : 0;
  return j && j->buf.data ? (const char *)j->buf.data : "";
}

static void fail(kmsdiag_json_t *j, kmsdiag_status_t st) {
  if (j->err == KMSDIAG_OK)
    j->err = st;
}

static void put_string(kd_buf_t *b, const uint8_t *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  size_t i = 0;
  kd_buf_putc(b, '"');
  while (i < len) {
    uint32_t cp;
    size_t n = kd_utf8_decode(s + i, len - i, &cp);
    if (n == 0) {
      kd_buf_puts(b, "\\ufffd");
      i++;
      continue;
    }
    if (n == 1) {
      switch (cp) {
      case '"': kd_buf_puts(b, "\\\""); break;
      case '\\': kd_buf_puts(b, "\\\\"); break;
      case '\n': kd_buf_puts(b, "\\n"); break;
      case '\r': kd_buf_puts(b, "\\r"); break;
      case '\t': kd_buf_puts(b, "\\t"); break;
      case '\b': kd_buf_puts(b, "\\b"); break;
      case '\f': kd_buf_puts(b, "\\f"); break;
      default:
        if (cp < 0x20 || cp == 0x7F) {
          char e[7] = {'\\', 'u', '0', '0', hex[cp >> 4], hex[cp & 15], 0};
          kd_buf_puts(b, e);
        } else {
          kd_buf_putc(b, (char)cp);
        }
      }
    } else if (cp == 0x2028 || cp == 0x2029 || (cp >= 0x80 && cp <= 0x9F)) {
      kd_buf_printf(b, "\\u%04x", (unsigned)cp);
    } else {
      kd_buf_put(b, s + i, n);
    }
    i += n;
  }
  kd_buf_putc(b, '"');
}

/* Write the separator and key for a new value; false on misuse. */
static int begin_value(kmsdiag_json_t *j, const char *key) {
  if (j->err || j->buf.err)
    return 0;
  if (j->depth == 0) {
    if (key || j->top_done) {
      fail(j, KMSDIAG_ESTATE);
      return 0;
    }
    return 1;
  }
  int top = j->depth - 1;
  if ((j->kind[top] == 'o') != (key != NULL)) {
    fail(j, KMSDIAG_ESTATE);
    return 0;
  }
  if (j->count[top])
    kd_buf_putc(&j->buf, ',');
  j->count[top] = 1;
  if (key) {
    put_string(&j->buf, (const uint8_t *)key, strlen(key));
    kd_buf_putc(&j->buf, ':');
  }
  return 1;
}

static void end_value(kmsdiag_json_t *j) {
  if (j->depth == 0)
    j->top_done = 1;
}

static void open_container(kmsdiag_json_t *j, const char *key, char kind) {
  if (!j || !begin_value(j, key))
    return;
  if (j->depth >= JSON_MAX_DEPTH) {
    fail(j, KMSDIAG_ELIMIT);
    return;
  }
  kd_buf_putc(&j->buf, kind == 'o' ? '{' : '[');
  j->kind[j->depth] = kind;
  j->count[j->depth] = 0;
  j->depth++;
}

static void close_container(kmsdiag_json_t *j, char kind) {
  if (!j || j->err)
    return;
  if (j->depth == 0 || j->kind[j->depth - 1] != kind) {
    fail(j, KMSDIAG_ESTATE);
    return;
  }
  j->depth--;
  kd_buf_putc(&j->buf, kind == 'o' ? '}' : ']');
  end_value(j);
}

void kmsdiag_json_object_begin(kmsdiag_json_t *j, const char *key) {
  open_container(j, key, 'o');
}
void kmsdiag_json_object_end(kmsdiag_json_t *j) { close_container(j, 'o'); }
void kmsdiag_json_array_begin(kmsdiag_json_t *j, const char *key) {
  open_container(j, key, 'a');
}
void kmsdiag_json_array_end(kmsdiag_json_t *j) { close_container(j, 'a'); }

void kmsdiag_json_strn(kmsdiag_json_t *j, const char *key, const void *value,
                       size_t len) {
  if (!j || !begin_value(j, key))
    return;
  if (!value)
    kd_buf_puts(&j->buf, "null");
  else
    put_string(&j->buf, value, len);
  end_value(j);
}

void kmsdiag_json_str(kmsdiag_json_t *j, const char *key, const char *value) {
  kmsdiag_json_strn(j, key, value, value ? strlen(value) : 0);
}

void kmsdiag_json_strf(kmsdiag_json_t *j, const char *key, const char *fmt,
                       ...) {
  kd_buf_t tmp;
  va_list ap;
  kd_buf_init(&tmp);
  va_start(ap, fmt);
  kd_buf_vprintf(&tmp, fmt, ap);
  va_end(ap);
  if (!tmp.err)
    kmsdiag_json_strn(j, key, tmp.data ? (const char *)tmp.data : "", tmp.len);
  else if (j)
    fail(j, KMSDIAG_ENOMEM);
  kd_buf_free(&tmp);
}

void kmsdiag_json_int(kmsdiag_json_t *j, const char *key, int64_t value) {
  if (!j || !begin_value(j, key))
    return;
  kd_buf_printf(&j->buf, "%lld", (long long)value);
  end_value(j);
}

void kmsdiag_json_uint(kmsdiag_json_t *j, const char *key, uint64_t value) {
  if (!j || !begin_value(j, key))
    return;
  kd_buf_printf(&j->buf, "%llu", (unsigned long long)value);
  end_value(j);
}

void kmsdiag_json_double(kmsdiag_json_t *j, const char *key, double value) {
  if (!j || !begin_value(j, key))
    return;
  if (isfinite(value)) {
    /* The shortest precision that reads back as the same double, so that
     * 1.543 prints as 1.543, not 1.5429999999999999. */
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
      snprintf(tmp, sizeof tmp, "%.*g", prec, value);
      if (strtod(tmp, NULL) == value)
        break;
    }
    kd_buf_puts(&j->buf, tmp);
  }
  else {
    kd_buf_puts(&j->buf, "null");
  }
  end_value(j);
}

void kmsdiag_json_bool(kmsdiag_json_t *j, const char *key, bool value) {
  if (!j || !begin_value(j, key))
    return;
  kd_buf_puts(&j->buf, value ? "true" : "false");
  end_value(j);
}

void kmsdiag_json_null(kmsdiag_json_t *j, const char *key) {
  if (!j || !begin_value(j, key))
    return;
  kd_buf_puts(&j->buf, "null");
  end_value(j);
}

void kmsdiag_json_hex32(kmsdiag_json_t *j, const char *key, uint32_t value) {
  kmsdiag_json_strf(j, key, "0x%08X", (unsigned)value);
}

void kmsdiag_json_hexbytes(kmsdiag_json_t *j, const char *key,
                           const void *data, size_t len) {
  static const char hex[] = "0123456789abcdef";
  const uint8_t *p = data;
  if (!j || !begin_value(j, key))
    return;
  kd_buf_putc(&j->buf, '"');
  for (size_t i = 0; i < len && p; i++) {
    char t[2] = {hex[p[i] >> 4], hex[p[i] & 15]};
    kd_buf_put(&j->buf, t, 2);
  }
  kd_buf_putc(&j->buf, '"');
  end_value(j);
}

void kmsdiag_json_endline(kmsdiag_json_t *j) {
  if (!j || j->err)
    return;
  if (j->depth != 0 || !j->top_done) {
    fail(j, KMSDIAG_ESTATE);
    return;
  }
  kd_buf_putc(&j->buf, '\n');
  j->top_done = 0;
}
