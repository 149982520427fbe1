/* cap_stream.c: reassembly of one direction of a TCP flow.
 *
 * In-order bytes go to a growable buffer that the consumer (RPC or DNS)
 * eats from the front; segments that arrive ahead of a hole wait in a
 * short sorted list. Retransmissions are dropped, overlaps trimmed (first
 * copy wins). Memory is capped per stream (limit) and accounted in a
 * shared budget: when a stream would exceed its limit the hole is given up
 * on (a gap: the consumer resynchronises at the next PDU boundary). */
#include <stdlib.h>
#include <string.h>

#include "capture/cap_int.h"

#define MAX_OOO_SEGS 32
/* A segment further ahead than this is not plausibly from this stream. */
#define MAX_AHEAD (1u << 20)

static void mb_add(kd_membudget_t *mb, size_t n) {
  if (!mb)
    return;
  mb->now += n;
  if (mb->now > mb->peak)
    mb->peak = mb->now;
}
static void mb_sub(kd_membudget_t *mb, size_t n) {
  if (mb)
    mb->now = mb->now >= n ? mb->now - n : 0;
}

void kd_stream_init(kd_stream_t *s, size_t limit) {
  memset(s, 0, sizeof *s);
  s->limit = limit ? limit : 65536;
}

void kd_stream_free(kd_stream_t *s, kd_membudget_t *mb) {
  kd_seg_t *g = s->ooo;
  while (g) {
    kd_seg_t *n = g->next;
    mb_sub(mb, g->len);
    free(g);
    g = n;
  }
  mb_sub(mb, s->cap);
  free(s->buf);
  s->buf = NULL;
  s->ooo = NULL;
  s->len = s->cap = s->ooo_bytes = 0;
  s->ooo_count = 0;
}

void kd_stream_discard(kd_stream_t *s) {
  if (s->len) {
    s->dropped += s->len;
    s->len = 0;
    s->gap = true;
    s->gaps++;
  }
}

void kd_stream_consume(kd_stream_t *s, size_t n) {
  if (n >= s->len) {
    s->len = 0;
    return;
  }
  memmove(s->buf, s->buf + n, s->len - n);
  s->len -= n;
}

/* Append in-order bytes; false when the stream limit forbids it (the bytes
 * are then dropped and a gap is marked). */
static bool append(kd_stream_t *s, kd_membudget_t *mb, const uint8_t *d,
                   size_t n, uint64_t frame) {
  if (n == 0)
    return false;
  if (s->len + n + s->ooo_bytes > s->limit) {
    /* Consumer could not make sense of what is buffered: drop it. */
    kd_stream_discard(s);
    if (n + s->ooo_bytes > s->limit) {
      s->dropped += n;
      s->gap = true;
      s->gaps++;
      return false;
    }
  }
  if (s->len + n > s->cap) {
    size_t nc = s->cap ? s->cap : 512;
    while (nc < s->len + n)
      nc *= 2;
    if (nc > s->limit)
      nc = s->limit;
    uint8_t *nb = realloc(s->buf, nc);
    if (!nb) {
      s->dropped += n;
      s->gap = true;
      s->gaps++;
      return false;
    }
    mb_add(mb, nc - s->cap);
    s->buf = nb;
    s->cap = nc;
  }
  if (s->len == 0)
    s->buf_frame = frame;
  memcpy(s->buf + s->len, d, n);
  s->len += n;
  return true;
}

/* Move out-of-order segments that now fit at next_seq into buf. */
static bool drain(kd_stream_t *s, kd_membudget_t *mb) {
  bool added = false;
  while (s->ooo) {
    kd_seg_t *g = s->ooo;
    int32_t d = (int32_t)(g->seq - s->next_seq);
    if (d > 0)
      break;
    s->ooo = g->next;
    s->ooo_count--;
    s->ooo_bytes -= g->len;
    mb_sub(mb, g->len);
    size_t skip = (size_t)(-(int64_t)d);
    if (skip < g->len) {
      if (skip)
        s->overlaps++;
      if (append(s, mb, g->data + skip, g->len - skip, g->frame))
        added = true;
      s->next_seq += (uint32_t)(g->len - skip);
    } else {
      s->retrans++;
    }
    free(g);
  }
  return added;
}

bool kd_stream_skip_gap(kd_stream_t *s, kd_membudget_t *mb, uint64_t frame) {
  if (!s->ooo)
    return false;
  s->next_seq = s->ooo->seq;
  /* bytes before the hole cannot be completed any more */
  s->dropped += s->len;
  s->len = 0;
  s->gap = true;
  s->gaps++;
  s->gap_frame = frame;
  return drain(s, mb);
}

static void insert_ooo(kd_stream_t *s, kd_membudget_t *mb, uint32_t seq,
                       const uint8_t *d, size_t n, uint64_t frame) {
  kd_seg_t **pp = &s->ooo;
  while (*pp && (int32_t)((*pp)->seq - seq) < 0)
    pp = &(*pp)->next;
  if (*pp && (*pp)->seq == seq && (*pp)->len >= n) {
    s->retrans++;
    return;
  }
  kd_seg_t *g = malloc(sizeof *g + n);
  if (!g) {
    s->dropped += n;
    return;
  }
  g->seq = seq;
  g->len = (uint32_t)n;
  g->frame = frame;
  memcpy(g->data, d, n);
  g->next = *pp;
  *pp = g;
  s->ooo_count++;
  s->ooo_bytes += n;
  mb_add(mb, n);
}

bool kd_stream_add(kd_stream_t *s, kd_membudget_t *mb, uint32_t seq,
                   bool syn, bool fin, const uint8_t *data, size_t len,
                   uint64_t frame) {
  bool added = false;
  if (syn) {
    s->init = true;
    s->next_seq = seq + 1;
    seq += 1;
    if (len == 0)
      return false;
  }
  if (!s->init) {
    /* capture started mid-stream: take the first segment as the start */
    s->init = true;
    s->next_seq = seq;
  }
  if (len > s->limit) { /* never fits: skip it, mark a gap */
    s->dropped += len;
    s->gap = true;
    s->gaps++;
    s->gap_frame = frame;
    kd_stream_discard(s);
    s->next_seq = seq + (uint32_t)len;
    return false;
  }
  int32_t d = (int32_t)(seq - s->next_seq);
  if (d < 0) {
    size_t behind = (size_t)(-(int64_t)d);
    if (behind >= len) {
      if (len)
        s->retrans++;
      return false;
    }
    s->overlaps++;
    data += behind;
    len -= behind;
    seq = s->next_seq;
    d = 0;
  }
  if (d == 0) {
    if (len) {
      added = append(s, mb, data, len, frame);
      s->next_seq += (uint32_t)len;
      if (drain(s, mb))
        added = true;
    }
    if (fin && !s->ooo)
      s->fin = true;
    return added;
  }
  /* ahead of a hole */
  if ((uint32_t)d > MAX_AHEAD) {
    s->dropped += len;
    return false;
  }
  if (len == 0)
    return false;
  insert_ooo(s, mb, seq, data, len, frame);
  if (s->ooo_count > MAX_OOO_SEGS || s->len + s->ooo_bytes > s->limit)
    added = kd_stream_skip_gap(s, mb, frame);
  return added;
}

size_t kd_stream_drop(kd_stream_t *s, kd_membudget_t *mb) {
  size_t freed = s->cap, lost = s->len;
  uint32_t end = s->next_seq;
  kd_seg_t *g = s->ooo;
  while (g) {
    kd_seg_t *n = g->next;
    uint32_t e = g->seq + g->len;
    if ((int32_t)(e - end) > 0)
      end = e;
    s->dropped += g->len;
    freed += g->len;
    lost += g->len;
    mb_sub(mb, g->len);
    free(g);
    g = n;
  }
  s->ooo = NULL;
  s->ooo_bytes = 0;
  s->ooo_count = 0;
  s->dropped += s->len;
  s->len = 0;
  mb_sub(mb, s->cap);
  free(s->buf);
  s->buf = NULL;
  s->cap = 0;
  if (lost) {
    s->next_seq = end;
    s->gap = true;
    s->gaps++;
  }
  return freed;
}

void kd_stream_trim(kd_stream_t *s, kd_membudget_t *mb) {
  if (s->len == 0 && s->buf) {
    mb_sub(mb, s->cap);
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
  }
}
