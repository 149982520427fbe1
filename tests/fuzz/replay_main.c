/* replay_main.c: runs a libFuzzer target without libFuzzer, for ctest.
 *
 *   replay-NAME [--mutate N] PATH...
 *
 * Each PATH is a corpus file or a folder of them. Every input is run whole,
 * then every prefix (so every truncation point is tried), then N mutated
 * copies (byte flips, byte sets, inserted and deleted runs) from a fixed
 * seed, so a run is repeatable. Crashes are caught by the sanitizers; a run
 * that finds no input at all fails, so an empty corpus cannot pass. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (4u << 20)

static unsigned long long executions;
static unsigned inputs;
static long mutations = 0;

static uint64_t rng_state;
static uint64_t rng(void) {
  /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * UINT64_C(2685821657736338717);
}

static void run(const uint8_t *d, size_t n) {
  /* Copy into an exact-size heap block so ASan sees any overread. */
  uint8_t *copy = malloc(n ? n : 1);
  if (!copy) {
    perror("malloc");
    exit(2);
  }
  if (n)
    memcpy(copy, d, n);
  LLVMFuzzerTestOneInput(copy, n);
  free(copy);
  executions++;
}

static void replay(const uint8_t *d, size_t n, const char *name) {
  size_t step = n > 4096 ? n / 4096 + 1 : 1;
  inputs++;
  run(d, n);
  for (size_t k = 0; k < n; k += step)
    run(d, k);
  uint64_t seed = 1469598103934665603ULL;
  for (const char *p = name; *p; p++)
    seed = (seed ^ (uint8_t)*p) * 1099511628211ULL;
  rng_state = seed | 1;
  uint8_t *m = malloc(n + 64);
  if (!m) {
    perror("malloc");
    exit(2);
  }
  for (long i = 0; i < mutations; i++) {
    size_t len = n;
    memcpy(m, d, n);
    int edits = 1 + (int)(rng() % 4);
    for (int e = 0; e < edits; e++) {
      unsigned kind = (unsigned)(rng() % 5);
      if (len == 0)
        kind = 3;
      size_t pos = len ? (size_t)(rng() % len) : 0;
      switch (kind) {
      case 0: m[pos] ^= (uint8_t)(1u << (rng() % 8)); break;
      case 1: m[pos] = (uint8_t)rng(); break;
      case 2: { /* interesting values: 0, 0xff, 0x7f, 0x80 */
        static const uint8_t v[] = {0, 0xff, 0x7f, 0x80, 1};
        m[pos] = v[rng() % sizeof v];
        break;
      }
      case 3: /* insert up to 8 random bytes */
        if (len + 8 <= n + 64) {
          size_t k = 1 + (size_t)(rng() % 8);
          memmove(m + pos + k, m + pos, len - pos);
          for (size_t q = 0; q < k; q++)
            m[pos + q] = (uint8_t)rng();
          len += k;
        }
        break;
      default: { /* delete a run */
        size_t k = 1 + (size_t)(rng() % 8);
        if (k > len - pos)
          k = len - pos;
        memmove(m + pos, m + pos + k, len - pos - k);
        len -= k;
      }
      }
    }
    run(m, len);
  }
  free(m);
}

static void do_file(const char *path) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf;
  size_t n;
  if (!f) {
    perror(path);
    exit(2);
  }
  buf = malloc(REPLAY_MAX_INPUT);
  if (!buf) {
    perror("malloc");
    exit(2);
  }
  n = fread(buf, 1, REPLAY_MAX_INPUT, f);
  fclose(f);
  replay(buf, n, path);
  free(buf);
}

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void do_path(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    perror(path);
    exit(2);
  }
  if (!S_ISDIR(st.st_mode)) {
    do_file(path);
    return;
  }
  DIR *dir = opendir(path);
  struct dirent *de;
  char **names = NULL;
  size_t cnt = 0;
  if (!dir) {
    perror(path);
    exit(2);
  }
  while ((de = readdir(dir)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char **nn = realloc(names, (cnt + 1) * sizeof *names);
    if (!nn)
      exit(2);
    names = nn;
    size_t len = strlen(path) + strlen(de->d_name) + 2;
    names[cnt] = malloc(len);
    if (!names[cnt])
      exit(2);
    snprintf(names[cnt], len, "%s/%s", path, de->d_name);
    cnt++;
  }
  closedir(dir);
  qsort(names, cnt, sizeof *names, cmp);
  for (size_t i = 0; i < cnt; i++) {
    do_path(names[i]);
    free(names[i]);
  }
  free(names);
}

int main(int argc, char **argv) {
  int i = 1;
  if (i + 1 < argc && strcmp(argv[i], "--mutate") == 0) {
    mutations = strtol(argv[i + 1], NULL, 10);
    i += 2;
  }
  if (i >= argc) {
    fprintf(stderr, "usage: %s [--mutate N] CORPUS...\n", argv[0]);
    return 2;
  }
  for (; i < argc; i++)
    do_path(argv[i]);
  if (inputs == 0) {
    fprintf(stderr, "no corpus input found: nothing was tested\n");
    return 1;
  }
  printf("replayed %u inputs in %llu executions without a crash\n", inputs,
         executions);
  return 0;
}
