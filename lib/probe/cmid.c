/* cmid.c: the probe's stable client machine ID, kept in a state file so
 * that repeated probes count as one machine on a KMS host. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kmsdiag/kmsdiag_probe.h>

char *kmsdiag_probe_cmid_path(void) {
  const char *xdg = getenv("XDG_STATE_HOME");
  const char *home = getenv("HOME");
  const char *base, *suffix;
  char *out;
  size_t n;
  /* The XDG spec ignores relative paths. */
  if (xdg && xdg[0] == '/') {
    base = xdg;
    suffix = "/kmsdiag/cmid";
  } else if (home && home[0] == '/') {
    base = home;
    suffix = "/.local/state/kmsdiag/cmid";
  } else {
    return NULL;
  }
  n = strlen(base) + strlen(suffix) + 1;
  if (n > 4096)
    return NULL;
  out = malloc(n);
  if (out) {
    size_t bl = strlen(base);
    memcpy(out, base, bl);
    memcpy(out + bl, suffix, strlen(suffix) + 1);
  }
  return out;
}

/* mkdir -p for the parent folders of `path`, mode 0700 for new ones. */
static kmsdiag_status_t make_parents(const char *path) {
  char buf[4096];
  size_t len = strlen(path);
  if (len >= sizeof buf)
    return KMSDIAG_ETOOBIG;
  memcpy(buf, path, len + 1);
  for (size_t i = 1; i < len; i++) {
    if (buf[i] != '/')
      continue;
    buf[i] = '\0';
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
      return KMSDIAG_ESYS;
    buf[i] = '/';
  }
  return KMSDIAG_OK;
}

static kmsdiag_status_t read_cmid(const char *path, kmsdiag_guid_t *out) {
  char buf[128];
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  ssize_t n;
  if (fd < 0)
    return errno == ENOENT ? KMSDIAG_ENOTFOUND : KMSDIAG_EIO;
  n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0)
    return KMSDIAG_EIO;
  buf[n] = '\0';
  /* One GUID, optionally followed by a newline / spaces. */
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
                   buf[n - 1] == ' ' || buf[n - 1] == '\t'))
    buf[--n] = '\0';
  return kmsdiag_guid_parse(out, buf) == KMSDIAG_OK ? KMSDIAG_OK
                                                    : KMSDIAG_EPARSE;
}

static kmsdiag_status_t random_v4(kmsdiag_guid_t *g) {
  uint8_t b[16];
  size_t got = 0;
  while (got < sizeof b) {
    ssize_t n = getrandom(b + got, sizeof b - got, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return KMSDIAG_ESYS;
    }
    got += (size_t)n;
  }
  kmsdiag_guid_from_wire(g, b);
  g->data3 = (uint16_t)((g->data3 & 0x0FFF) | 0x4000); /* version 4 */
  g->data4[0] = (uint8_t)((g->data4[0] & 0x3F) | 0x80); /* RFC 4122 variant */
  return KMSDIAG_OK;
}

static kmsdiag_status_t write_atomic(const char *path, const char *text) {
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 32);
  kmsdiag_status_t st = KMSDIAG_OK;
  int fd;
  if (!tmp)
    return KMSDIAG_ENOMEM;
  snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    free(tmp);
    return KMSDIAG_EIO;
  }
  size_t len = strlen(text), off = 0;
  while (off < len) {
    ssize_t n = write(fd, text + off, len - off);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      st = KMSDIAG_EIO;
      break;
    }
    off += (size_t)n;
  }
  if (st == KMSDIAG_OK && fsync(fd) != 0)
    st = KMSDIAG_EIO;
  if (close(fd) != 0 && st == KMSDIAG_OK)
    st = KMSDIAG_EIO;
  /* Publish with link(): atomic, and it never replaces a file another
   * process created meanwhile (EEXIST: the caller reads theirs). */
  if (st == KMSDIAG_OK && link(tmp, path) != 0)
    st = errno == EEXIST ? KMSDIAG_OK : KMSDIAG_EIO;
  unlink(tmp);
  free(tmp);
  return st;
}

kmsdiag_status_t kmsdiag_probe_cmid_load(const char *path,
                                         kmsdiag_guid_t *out, bool *created) {
  char *own = NULL;
  kmsdiag_status_t st;
  if (!out)
    return KMSDIAG_EINVAL;
  if (created)
    *created = false;
  if (!path) {
    own = kmsdiag_probe_cmid_path();
    if (!own)
      return KMSDIAG_ESYS;
    path = own;
  }
  st = read_cmid(path, out);
  if (st == KMSDIAG_ENOTFOUND) {
    char text[KMSDIAG_GUID_STRLEN + 1];
    kmsdiag_guid_t mine;
    st = make_parents(path);
    if (st == KMSDIAG_OK)
      st = random_v4(&mine);
    if (st == KMSDIAG_OK) {
      kmsdiag_guid_to_str(&mine, text);
      strcat(text, "\n");
      st = write_atomic(path, text);
    }
    if (st == KMSDIAG_OK) {
      /* Another process may have won the race: use whatever is there. */
      st = read_cmid(path, out);
      if (created && st == KMSDIAG_OK)
        *created = kmsdiag_guid_equal(&mine, out);
    }
  }
  free(own);
  return st;
}
