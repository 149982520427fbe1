/* cap_pcap.c: libpcap as a frame source for the analyser (files in pcap
 * and pcapng format, standard input, live interfaces), with an optional
 * dump of what was read. */
#include <errno.h>
#include <stdarg.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <kmsdiag/kmsdiag_capture.h>

struct kmsdiag_pcap_source {
  pcap_t *p;
  pcap_dumper_t *dump;
  int linktype;
  bool nano;
  uint64_t frames;
  uint64_t total; /* file size when known */
  uint64_t bytes; /* record bytes read (header + captured data) */
  FILE *f;        /* the file we opened (for progress), not owned */
  volatile int stop;
};

static void seterr(char *errbuf, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *errbuf, size_t errsz, const char *fmt, ...) {
  va_list ap;
  if (!errbuf || !errsz)
    return;
  va_start(ap, fmt);
  vsnprintf(errbuf, errsz, fmt, ap);
  va_end(ap);
}

static kmsdiag_status_t apply_filter(kmsdiag_pcap_source_t *s,
                                     const char *filter, char *errbuf,
                                     size_t errsz) {
  struct bpf_program prog;
  if (!filter || !*filter)
    return KMSDIAG_OK;
  if (pcap_compile(s->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    seterr(errbuf, errsz, "bad filter '%s': %s", filter, pcap_geterr(s->p));
    return KMSDIAG_EPARSE;
  }
  int rc = pcap_setfilter(s->p, &prog);
  pcap_freecode(&prog);
  if (rc != 0) {
    seterr(errbuf, errsz, "cannot set filter '%s': %s", filter,
           pcap_geterr(s->p));
    return KMSDIAG_EPCAP;
  }
  return KMSDIAG_OK;
}

KMSDIAG_API kmsdiag_status_t kmsdiag_pcap_open_file(const char *path,
                                                    const char *filter,
                                                    kmsdiag_pcap_source_t **out,
                                                    char *errbuf,
                                                    size_t errsz) {
  char eb[PCAP_ERRBUF_SIZE] = "";
  if (!path || !out)
    return KMSDIAG_EINVAL;
  *out = NULL;
  kmsdiag_pcap_source_t *s = calloc(1, sizeof *s);
  if (!s)
    return KMSDIAG_ENOMEM;
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!f) {
    seterr(errbuf, errsz, "%s: %s", path, strerror(errno));
    free(s);
    return KMSDIAG_EIO;
  }
  struct stat st;
  if (f != stdin && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
    s->total = (uint64_t)st.st_size;
  s->p = pcap_fopen_offline_with_tstamp_precision(
      f, PCAP_TSTAMP_PRECISION_NANO, eb);
  if (!s->p) {
    seterr(errbuf, errsz, "%s: %s", path, eb);
    if (f != stdin)
      fclose(f);
    free(s);
    return KMSDIAG_EPCAP;
  }
  s->f = f;
  s->nano = true;
  s->linktype = pcap_datalink(s->p);
  kmsdiag_status_t rc = apply_filter(s, filter, errbuf, errsz);
  if (rc != KMSDIAG_OK) {
    kmsdiag_pcap_source_close(s);
    return rc;
  }
  *out = s;
  return KMSDIAG_OK;
}

KMSDIAG_API kmsdiag_status_t kmsdiag_pcap_open_live(const char *iface,
                                                    const char *filter,
                                                    int snaplen,
                                                    kmsdiag_pcap_source_t **out,
                                                    char *errbuf,
                                                    size_t errsz) {
  char eb[PCAP_ERRBUF_SIZE] = "";
  if (!iface || !out || snaplen < 0)
    return KMSDIAG_EINVAL;
  *out = NULL;
  kmsdiag_pcap_source_t *s = calloc(1, sizeof *s);
  if (!s)
    return KMSDIAG_ENOMEM;
  s->p = pcap_create(iface, eb);
  if (!s->p) {
    seterr(errbuf, errsz, "%s: %s", iface, eb);
    free(s);
    return KMSDIAG_EPCAP;
  }
  pcap_set_snaplen(s->p, snaplen ? snaplen : 262144);
  pcap_set_promisc(s->p, 0);
  pcap_set_timeout(s->p, 100);
  pcap_set_immediate_mode(s->p, 1);
  if (pcap_set_tstamp_precision(s->p, PCAP_TSTAMP_PRECISION_NANO) == 0)
    s->nano = true;
  int rc = pcap_activate(s->p);
  if (rc < 0) {
    seterr(errbuf, errsz, "%s: %s", iface, pcap_geterr(s->p));
    pcap_close(s->p);
    free(s);
    return KMSDIAG_EPCAP;
  }
  s->linktype = pcap_datalink(s->p);
  kmsdiag_status_t st = apply_filter(s, filter, errbuf, errsz);
  if (st != KMSDIAG_OK) {
    kmsdiag_pcap_source_close(s);
    return st;
  }
  *out = s;
  return KMSDIAG_OK;
}

KMSDIAG_API kmsdiag_status_t kmsdiag_pcap_set_dump(kmsdiag_pcap_source_t *s,
                                                   const char *path,
                                                   char *errbuf,
                                                   size_t errsz) {
  if (!s || !path)
    return KMSDIAG_EINVAL;
  if (s->dump)
    return KMSDIAG_ESTATE;
  s->dump = pcap_dump_open(s->p, path);
  if (!s->dump) {
    /* libpcap's message already names the file */
    seterr(errbuf, errsz, "%s", pcap_geterr(s->p));
    return KMSDIAG_EIO;
  }
  return KMSDIAG_OK;
}

KMSDIAG_API int kmsdiag_pcap_linktype(const kmsdiag_pcap_source_t *s) {
  return s ? s->linktype : -1;
}

KMSDIAG_API void kmsdiag_pcap_break(kmsdiag_pcap_source_t *s) {
  if (s) {
    s->stop = 1;
    pcap_breakloop(s->p);
  }
}

KMSDIAG_API uint64_t kmsdiag_pcap_frames(const kmsdiag_pcap_source_t *s) {
  return s ? s->frames : 0;
}

KMSDIAG_API kmsdiag_status_t
kmsdiag_pcap_run(kmsdiag_pcap_source_t *s, kmsdiag_capture_t *cap,
                 uint64_t max_frames, kmsdiag_pcap_progress_fn progress,
                 void *userdata, char *errbuf, size_t errsz) {
  if (!s || !cap)
    return KMSDIAG_EINVAL;
  struct pcap_pkthdr *h;
  const u_char *data;
  kmsdiag_frame_t fr;
  fr.linktype = s->linktype;
  for (;;) {
    if (s->stop)
      return KMSDIAG_ECANCELED;
    if (max_frames && s->frames >= max_frames)
      return KMSDIAG_OK;
    int rc = pcap_next_ex(s->p, &h, &data);
    if (rc == 0)
      continue; /* live timeout */
    if (rc == PCAP_ERROR_BREAK)
      return s->stop ? KMSDIAG_ECANCELED : KMSDIAG_OK;
    if (rc < 0) {
      const char *e = pcap_geterr(s->p);
      /* libpcap 1.10 reads pcapng only when every interface has the link
       * type of the first: the file is not damaged, just not readable */
      if (strstr(e, "different from the type of the first interface") ||
          strstr(e, "different from the snapshot length of the first") ||
          strstr(e, "sections with different byte orders")) {
        seterr(errbuf, errsz,
               "pcapng file whose interfaces have different link types (or "
               "snapshot lengths), which libpcap cannot read past the first "
               "such interface: %s",
               e);
        return KMSDIAG_EUNSUPPORTED;
      }
      seterr(errbuf, errsz, "%s", e);
      return KMSDIAG_EPCAP;
    }
    s->frames++;
    s->bytes += 16u + h->caplen;
    if (s->dump)
      pcap_dump((u_char *)s->dump, h, data);
    fr.ts_sec = (int64_t)h->ts.tv_sec;
    fr.ts_nsec = (uint32_t)(s->nano ? h->ts.tv_usec : h->ts.tv_usec * 1000);
    if (fr.ts_nsec >= 1000000000u)
      fr.ts_nsec = 999999999u;
    fr.caplen = h->caplen;
    fr.wirelen = h->len;
    fr.data = data;
    kmsdiag_status_t st = kmsdiag_capture_feed(cap, &fr);
    if (st == KMSDIAG_ENOMEM) {
      seterr(errbuf, errsz, "out of memory");
      return st;
    }
    if (progress && (s->frames & 0xFFFF) == 0) {
      /* a pipe has no file position: count the record bytes instead */
      uint64_t pos = s->bytes;
      if (s->f && s->total) {
        long p = ftell(s->f);
        if (p > 0)
          pos = (uint64_t)p;
      }
      progress(pos, s->total, s->frames, userdata);
    }
  }
}

KMSDIAG_API void kmsdiag_pcap_source_close(kmsdiag_pcap_source_t *s) {
  if (!s)
    return;
  if (s->dump) {
    pcap_dump_flush(s->dump);
    pcap_dump_close(s->dump);
  }
  if (s->p)
    pcap_close(s->p); /* closes the FILE it was given */
  free(s);
}
