/* behave.c: what the test KMS responder answers, per behaviour. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "responder.h"

static const struct {
  const char *name;
  rsp_behaviour_t b;
} names[] = {
    {"normal", RSP_NORMAL},         {"hresult", RSP_HRESULT},
    {"bindnak", RSP_BINDNAK},       {"bindreject", RSP_BINDREJECT},
    {"fault", RSP_FAULT},           {"close", RSP_CLOSE},
    {"silent", RSP_SILENT},         {"slow", RSP_SLOW},
    {"garbage", RSP_GARBAGE},       {"hugefrag", RSP_HUGEFRAG},
    {"badmac", RSP_BADMAC},         {"badcmid", RSP_BADCMID},
    {"stale", RSP_STALE},           {"stream", RSP_STREAM},
};

const char *rsp_behaviour_name(rsp_behaviour_t b) {
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i].b == b)
      return names[i].name;
  return "?";
}

static bool parse_u32(const char *s, uint32_t *out) {
  char *end;
  unsigned long long v;
  if (!*s)
    return false;
  v = strtoull(s, &end, 0);
  if (*end || v > 0xFFFFFFFFull)
    return false;
  *out = (uint32_t)v;
  return true;
}

#define STREAM_MAX 65536

/* Every stream loaded, freed at exit (listeners made from one range share
 * one). */
typedef struct loaded {
  struct loaded *next;
  uint8_t data[];
} loaded_t;
static loaded_t *g_loaded;

void rsp_config_free_all(void) {
  while (g_loaded) {
    loaded_t *n = g_loaded->next;
    free(g_loaded);
    g_loaded = n;
  }
}

static bool load_stream(const char *path, rsp_config_t *c) {
  static uint8_t buf[STREAM_MAX];
  FILE *f = fopen(path, "rb");
  loaded_t *l;
  size_t n;
  if (!f)
    return false;
  n = fread(buf, 1, sizeof buf, f);
  bool ok = !ferror(f) && n > 0 && fgetc(f) == EOF;
  fclose(f);
  if (!ok || !(l = malloc(sizeof *l + n)))
    return false;
  memcpy(l->data, buf, n);
  l->next = g_loaded;
  g_loaded = l;
  c->stream = l->data;
  c->stream_len = n;
  return true;
}

static bool parse_hex8(const char *s, uint8_t out[8]) {
  if (strlen(s) != 16)
    return false;
  for (int i = 0; i < 8; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1)
      return false;
    out[i] = (uint8_t)v;
  }
  return true;
}

bool rsp_config_parse(const char *text, rsp_config_t *c, char *err,
                      size_t errsz) {
  char buf[400], *save = NULL, *tok;
  static const uint8_t hwid[8] = {0x5A, 0x31, 0x0C, 0x87, 0x14, 0x2D, 0x6E, 0x09};
  memset(c, 0, sizeof *c);
  snprintf(c->epid, sizeof c->epid, "%s",
           "03612-00206-566-101234-03-1033-17763.0000-0452024");
  memcpy(c->hwid, hwid, 8);
  c->act = 120;
  c->renew = 10080;
  c->hresult = 0xC004F042u;
  c->nak_reason = 4;
  c->fault_status = 0x1C010003u;
  c->interval_ms = 1000;
  c->ndr = 2;
  c->btfn = true;
  c->stale_s = 5 * 3600;
  if (strlen(text) >= sizeof buf) {
    snprintf(err, errsz, "behaviour text too long");
    return false;
  }
  strcpy(buf, text);
  tok = strtok_r(buf, ",", &save);
  if (!tok) {
    snprintf(err, errsz, "no behaviour");
    return false;
  }
  bool found = false;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(tok, names[i].name) == 0) {
      c->behaviour = names[i].b;
      found = true;
    }
  if (!found) {
    snprintf(err, errsz, "unknown behaviour '%s'", tok);
    return false;
  }
  while ((tok = strtok_r(NULL, ",", &save))) {
    char *eq = strchr(tok, '=');
    uint32_t v = 0;
    if (!eq) {
      snprintf(err, errsz, "'%s' is not KEY=VALUE", tok);
      return false;
    }
    *eq = '\0';
    const char *k = tok, *val = eq + 1;
    bool ok = true;
    if (strcmp(k, "epid") == 0) {
      ok = strlen(val) >= 1 && strlen(val) < sizeof c->epid;
      if (ok)
        strcpy(c->epid, val);
    } else if (strcmp(k, "file") == 0) {
      ok = load_stream(val, c);
    } else if (strcmp(k, "then") == 0) {
      ok = strcmp(val, "close") == 0 || strcmp(val, "hold") == 0;
      c->then_close = strcmp(val, "close") == 0;
    } else if (strcmp(k, "hwid") == 0) {
      ok = parse_hex8(val, c->hwid);
    } else if (strcmp(k, "at") == 0) {
      ok = strcmp(val, "bind") == 0 || strcmp(val, "request") == 0;
      c->at_request = strcmp(val, "request") == 0;
    } else if (strcmp(k, "ndr") == 0) {
      ok = strcmp(val, "32") == 0 || strcmp(val, "64") == 0 ||
           strcmp(val, "both") == 0;
      c->ndr = strcmp(val, "32") == 0 ? 1 : strcmp(val, "64") == 0 ? 2 : 3;
    } else if (!(ok = parse_u32(val, &v))) {
      /* fall through to the error */
    } else if (strcmp(k, "count") == 0) {
      c->count = v;
    } else if (strcmp(k, "act") == 0) {
      c->act = v;
    } else if (strcmp(k, "renew") == 0) {
      c->renew = v;
    } else if (strcmp(k, "hr") == 0) {
      c->hresult = v;
    } else if (strcmp(k, "reason") == 0) {
      ok = v <= 0xFFFF;
      c->nak_reason = (uint16_t)v;
    } else if (strcmp(k, "status") == 0) {
      c->fault_status = v;
    } else if (strcmp(k, "delay") == 0) {
      ok = v <= 600000;
      c->delay_ms = v;
    } else if (strcmp(k, "interval") == 0) {
      ok = v <= 600000;
      c->interval_ms = v;
      c->interval_set = true;
    } else if (strcmp(k, "chunk") == 0) {
      ok = v <= STREAM_MAX;
      c->chunk = v;
    } else if (strcmp(k, "btfn") == 0) {
      c->btfn = v != 0;
    } else if (strcmp(k, "age") == 0) {
      c->stale_s = v;
    } else {
      snprintf(err, errsz, "unknown key '%s'", k);
      return false;
    }
    if (!ok) {
      snprintf(err, errsz, "bad value for '%s': '%s'", k, val);
      return false;
    }
  }
  if (c->at_request && !rsp_hostile(c->behaviour)) {
    snprintf(err, errsz, "at=request is for fault, close, silent, slow, "
             "garbage, hugefrag and stream");
    return false;
  }
  if ((c->behaviour == RSP_STREAM) != (c->stream != NULL)) {
    snprintf(err, errsz, c->stream ? "file= is for stream"
                                   : "stream needs file= (1..%d bytes)",
             STREAM_MAX);
    return false;
  }
  if (c->behaviour == RSP_STREAM && !c->interval_set)
    c->interval_ms = c->chunk ? 1 : 0;
  return true;
}

/* ---- answers ---- */

#include "rsp_pdu.h"

/* Queue one answer; `trickle`: one byte every interval= ms (slow). */
static void send_pdu(rsp_conn_t *c, const rsp_config_t *cfg, uint8_t *pdu,
                     size_t len, bool trickle) {
  if (!pdu) {
    fprintf(stderr, "kms-test-responder: could not build an answer\n");
    rsp_close_after(c);
    return;
  }
  rsp_queue(c, pdu, len);
  free(pdu);
  if (trickle)
    rsp_pace(c, cfg->delay_ms, 1, cfg->interval_ms);
  else
    rsp_pace(c, cfg->delay_ms, 0, 0);
}

bool rsp_hostile(rsp_behaviour_t b) {
  return b == RSP_FAULT || b == RSP_CLOSE || b == RSP_SILENT ||
         b == RSP_SLOW || b == RSP_GARBAGE || b == RSP_HUGEFRAG ||
         b == RSP_STREAM;
}

/* The misbehaviours, answering the bind or, with at=request, the request.
 * Returns false to close the connection. */
static bool misbehave(rsp_conn_t *c, const rsp_config_t *cfg,
                      const uint8_t *pdu, size_t len, bool request) {
  size_t olen = 0;
  uint8_t *out = NULL;
  switch (cfg->behaviour) {
  case RSP_CLOSE: /* (at the bind it closed at accept) */
    return false;
  case RSP_SILENT:
    rsp_hold(c);
    return true;
  case RSP_GARBAGE: {
    /* Deterministic bytes that cannot start an RPC v5 PDU. */
    uint8_t g[96];
    uint32_t x = 0x9E3779B9u;
    for (size_t i = 0; i < sizeof g; i++) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      g[i] = (uint8_t)x;
    }
    /* "HTTP/1.1 400" would be a typical wrong service */
    memcpy(g, "HTTP/1.1 400 Bad Request\r\n\r\n", 28);
    rsp_queue(c, g, sizeof g);
    rsp_pace(c, cfg->delay_ms, 0, 0);
    rsp_close_after(c);
    return true;
  }
  case RSP_HUGEFRAG: {
    uint8_t h[16];
    rsp_pdu_header(h, request ? 2 : 12, 0x03, 0xFFF0, 2);
    rsp_queue(c, h, sizeof h);
    rsp_pace(c, cfg->delay_ms, 0, 0);
    rsp_hold(c);
    return true;
  }
  case RSP_FAULT:
    out = rsp_pdu_fault(pdu, len, cfg->fault_status, &olen);
    send_pdu(c, cfg, out, olen, false);
    return true;
  case RSP_STREAM:
    /* Whatever bytes the test gives, split as it says. */
    rsp_queue(c, cfg->stream, cfg->stream_len);
    rsp_pace(c, cfg->delay_ms, cfg->chunk, cfg->interval_ms);
    if (cfg->then_close)
      rsp_close_after(c);
    else
      rsp_hold(c);
    return true;
  case RSP_SLOW:
    out = request ? rsp_pdu_kms_response(pdu, len, cfg, &olen)
                  : rsp_pdu_bind_ack(pdu, len, cfg->ndr, cfg->btfn, &olen);
    send_pdu(c, cfg, out, olen, true);
    return true;
  default:
    return false;
  }
}

static bool on_bind(rsp_conn_t *c, const rsp_config_t *cfg,
                    const uint8_t *pdu, size_t len) {
  size_t olen = 0;
  uint8_t *out = NULL;
  if (rsp_hostile(cfg->behaviour) && !cfg->at_request)
    return misbehave(c, cfg, pdu, len, false);
  switch (cfg->behaviour) {
  case RSP_BINDNAK:
    out = rsp_pdu_bind_nak(pdu, len, cfg->nak_reason, &olen);
    break;
  case RSP_BINDREJECT:
    out = rsp_pdu_bind_ack(pdu, len, 0, false, &olen);
    break;
  default:
    out = rsp_pdu_bind_ack(pdu, len, cfg->ndr, cfg->btfn, &olen);
  }
  send_pdu(c, cfg, out, olen, false);
  return true;
}

static bool on_request(rsp_conn_t *c, const rsp_config_t *cfg,
                       const uint8_t *pdu, size_t len) {
  size_t olen = 0;
  uint8_t *out = NULL;
  (void)rsp_requests(c);
  if (cfg->at_request)
    return misbehave(c, cfg, pdu, len, true);
  if (cfg->behaviour == RSP_HRESULT)
    out = rsp_pdu_refusal(pdu, len, cfg->hresult, &olen);
  else
    out = rsp_pdu_kms_response(pdu, len, cfg, &olen);
  send_pdu(c, cfg, out, olen, false);
  return true;
}

bool rsp_handle_pdu(rsp_conn_t *c, const rsp_config_t *cfg,
                    const uint8_t *pdu, size_t len) {
  switch (pdu[2]) {
  case 11: /* bind */
    return on_bind(c, cfg, pdu, len);
  case 14: { /* alter_context: accept what is asked */
    size_t olen = 0;
    uint8_t *out = rsp_pdu_alter_resp(pdu, len, &olen);
    send_pdu(c, cfg, out, olen, false);
    return true;
  }
  case 0: /* request */
    return on_request(c, cfg, pdu, len);
  default:
    return false;
  }
}
