/* check.h: a minimal unit-test harness. Each test program calls its test
 * functions from main() and returns check_finish(), which prints the
 * closing line "N passed, N failed". */
#ifndef KMSDIAG_TEST_CHECK_H
#define KMSDIAG_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_passed_, check_failed_;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (cond) {                                                                \
      check_passed_++;                                                         \
    } else {                                                                   \
      check_failed_++;                                                         \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

#define CHECK_EQ(a, b)                                                         \
  do {                                                                         \
    long long va_ = (long long)(a), vb_ = (long long)(b);                      \
    if (va_ == vb_) {                                                          \
      check_passed_++;                                                         \
    } else {                                                                   \
      check_failed_++;                                                         \
      fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n",     \
              __FILE__, __LINE__, #a, #b, va_, vb_);                           \
    }                                                                          \
  } while (0)

#define CHECK_EQ_U64(a, b)                                                     \
  do {                                                                         \
    unsigned long long va_ = (unsigned long long)(a),                          \
                       vb_ = (unsigned long long)(b);                          \
    if (va_ == vb_) {                                                          \
      check_passed_++;                                                         \
    } else {                                                                   \
      check_failed_++;                                                         \
      fprintf(stderr, "%s:%d: CHECK_EQ_U64 failed: %s == %s (0x%llx != 0x%llx)\n", \
              __FILE__, __LINE__, #a, #b, va_, vb_);                           \
    }                                                                          \
  } while (0)

#define CHECK_STR(a, b)                                                        \
  do {                                                                         \
    const char *sa_ = (a), *sb_ = (b);                                         \
    if (sa_ && sb_ && strcmp(sa_, sb_) == 0) {                                 \
      check_passed_++;                                                         \
    } else {                                                                   \
      check_failed_++;                                                         \
      fprintf(stderr, "%s:%d: CHECK_STR failed: %s == %s (\"%s\" != \"%s\")\n", \
              __FILE__, __LINE__, #a, #b, sa_ ? sa_ : "(null)",                \
              sb_ ? sb_ : "(null)");                                           \
    }                                                                          \
  } while (0)

#define CHECK_MEM(a, b, n)                                                     \
  do {                                                                         \
    if (memcmp((a), (b), (n)) == 0) {                                          \
      check_passed_++;                                                         \
    } else {                                                                   \
      check_failed_++;                                                         \
      fprintf(stderr, "%s:%d: CHECK_MEM failed: %s == %s (%zu bytes)\n",      \
              __FILE__, __LINE__, #a, #b, (size_t)(n));                        \
    }                                                                          \
  } while (0)

static inline int check_finish(void) {
  printf("%d passed, %d failed\n", check_passed_, check_failed_);
  return check_failed_ ? 1 : (check_passed_ ? 0 : 1);
}

#endif
