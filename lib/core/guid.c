/* guid.c: GUIDs in the Microsoft mixed-endian layout, and FILETIME. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <kmsdiag/kmsdiag_types.h>

void kmsdiag_guid_from_wire(kmsdiag_guid_t *out, const uint8_t w[16]) {
  out->data1 = (uint32_t)w[0] | ((uint32_t)w[1] << 8) |
               ((uint32_t)w[2] << 16) | ((uint32_t)w[3] << 24);
  out->data2 = (uint16_t)(w[4] | (w[5] << 8));
  out->data3 = (uint16_t)(w[6] | (w[7] << 8));
  memcpy(out->data4, w + 8, 8);
}

void kmsdiag_guid_to_wire(const kmsdiag_guid_t *g, uint8_t w[16]) {
  for (int i = 0; i < 4; i++)
    w[i] = (uint8_t)(g->data1 >> (8 * i));
  w[4] = (uint8_t)g->data2;
  w[5] = (uint8_t)(g->data2 >> 8);
  w[6] = (uint8_t)g->data3;
  w[7] = (uint8_t)(g->data3 >> 8);
  memcpy(w + 8, g->data4, 8);
}

char *kmsdiag_guid_to_str(const kmsdiag_guid_t *g, char *buf) {
  snprintf(buf, KMSDIAG_GUID_STRLEN,
           "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", g->data1,
           g->data2, g->data3, g->data4[0], g->data4[1], g->data4[2],
           g->data4[3], g->data4[4], g->data4[5], g->data4[6], g->data4[7]);
  return buf;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

kmsdiag_status_t kmsdiag_guid_parse(kmsdiag_guid_t *out, const char *text) {
  uint8_t v[16];
  size_t n = 0, i = 0, len;
  int nib = -1;
  if (!out || !text)
    return KMSDIAG_EINVAL;
  len = strlen(text);
  if (len == 38 && text[0] == '{' && text[37] == '}') {
    text++;
    len = 36;
  }
  if (len != 36)
    return KMSDIAG_EPARSE;
  for (i = 0; i < 36; i++) {
    int c = (unsigned char)text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-')
        return KMSDIAG_EPARSE;
      continue;
    }
    int h = hexval(c);
    if (h < 0)
      return KMSDIAG_EPARSE;
    if (nib < 0) {
      nib = h;
    } else {
      v[n++] = (uint8_t)((nib << 4) | h);
      nib = -1;
    }
  }
  /* v holds the big-endian text order. */
  out->data1 = ((uint32_t)v[0] << 24) | ((uint32_t)v[1] << 16) |
               ((uint32_t)v[2] << 8) | v[3];
  out->data2 = (uint16_t)((v[4] << 8) | v[5]);
  out->data3 = (uint16_t)((v[6] << 8) | v[7]);
  memcpy(out->data4, v + 8, 8);
  return KMSDIAG_OK;
}

bool kmsdiag_guid_equal(const kmsdiag_guid_t *a, const kmsdiag_guid_t *b) {
  return a->data1 == b->data1 && a->data2 == b->data2 &&
         a->data3 == b->data3 && memcmp(a->data4, b->data4, 8) == 0;
}

bool kmsdiag_guid_is_null(const kmsdiag_guid_t *g) {
  static const kmsdiag_guid_t zero;
  return kmsdiag_guid_equal(g, &zero);
}

int64_t kmsdiag_filetime_to_unix(uint64_t ft, uint32_t *nsec) {
  /* Floor division so that times before 1970 round down. */
  int64_t ticks = (int64_t)(ft / 10) - (int64_t)(KMSDIAG_FILETIME_UNIX_EPOCH / 10);
  int64_t sec = ticks / 1000000;
  int64_t usec = ticks % 1000000;
  if (usec < 0) {
    usec += 1000000;
    sec -= 1;
  }
  if (nsec)
    *nsec = (uint32_t)(usec * 1000 + (int64_t)(ft % 10) * 100);
  return sec;
}

uint64_t kmsdiag_filetime_from_unix(int64_t sec, uint32_t nsec) {
  const int64_t min_sec = -(int64_t)(KMSDIAG_FILETIME_UNIX_EPOCH / 10000000);
  if (sec < min_sec)
    return 0;
  if (sec > (int64_t)((UINT64_MAX - KMSDIAG_FILETIME_UNIX_EPOCH) / 10000000) - 1)
    return UINT64_MAX;
  return (uint64_t)(sec - min_sec) * 10000000u + nsec / 100;
}

/* Days since 1970-01-01 to civil date (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = (int64_t)yoe + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

char *kmsdiag_filetime_to_str(uint64_t ft, char *buf, size_t bufsz) {
  int64_t s = kmsdiag_filetime_to_unix(ft, NULL);
  int64_t days = s / 86400, rem = s % 86400, y;
  unsigned m, d;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  civil_from_days(days, &y, &m, &d);
  snprintf(buf, bufsz, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, m, d,
           (unsigned)(rem / 3600), (unsigned)(rem % 3600 / 60),
           (unsigned)(rem % 60));
  return buf;
}
