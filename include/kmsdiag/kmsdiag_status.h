/* kmsdiag_status.h: the one status enum of libkmsdiag. */
#ifndef KMSDIAG_STATUS_H
#define KMSDIAG_STATUS_H

#include <kmsdiag/kmsdiag_export.h>

#ifdef __cplusplus
extern "C" {
#endif

/*! Status of every libkmsdiag call. Values are never renumbered or reused;
 *  new codes are added at the end, before KMSDIAG_STATUS_COUNT_. */
typedef enum kmsdiag_status {
  KMSDIAG_OK = 0,              /*!< success */
  KMSDIAG_EINVAL = 1,          /*!< invalid argument from the caller */
  KMSDIAG_ENOMEM = 2,          /*!< out of memory */
  KMSDIAG_ETRUNC = 3,          /*!< input ends before a field it announces */
  KMSDIAG_EMALFORMED = 4,      /*!< input is not well formed */
  KMSDIAG_EUNSUPPORTED = 5,    /*!< well formed, but not supported */
  KMSDIAG_ETOOBIG = 6,         /*!< a length or count exceeds a limit */
  KMSDIAG_ENOTFOUND = 7,       /*!< no such entry */
  KMSDIAG_EIO = 8,             /*!< file read or write failed */
  KMSDIAG_ESYS = 9,            /*!< a system call failed (see errno text) */
  KMSDIAG_ETIMEOUT = 10,       /*!< the peer did not answer in time */
  KMSDIAG_ECONNREFUSED = 11,   /*!< TCP connection refused (RST) */
  KMSDIAG_ECONNRESET = 12,     /*!< connection reset or closed early */
  KMSDIAG_EUNREACH = 13,       /*!< network or host unreachable */
  KMSDIAG_EDNS = 14,           /*!< DNS resolution failed */
  KMSDIAG_EVERIFY = 15,        /*!< cryptographic verification failed */
  KMSDIAG_ECRYPTO = 16,        /*!< a crypto primitive failed */
  KMSDIAG_EPCAP = 17,          /*!< libpcap reported an error */
  KMSDIAG_EAMBIGUOUS = 18,     /*!< several entries match */
  KMSDIAG_EBINDREJECT = 19,    /*!< RPC bind rejected (bind_nak or all
                                    contexts rejected) */
  KMSDIAG_ERPCFAULT = 20,      /*!< RPC fault PDU received */
  KMSDIAG_EPROTO = 21,         /*!< the peer violated the protocol */
  KMSDIAG_ECLOSED = 22,        /*!< the peer closed the connection */
  KMSDIAG_ESTATE = 23,         /*!< call not valid in the current state */
  KMSDIAG_EAUTH = 24,          /*!< RPC authentication present (KMS uses
                                    none) */
  KMSDIAG_ELIMIT = 25,         /*!< an internal resource limit was hit */
  KMSDIAG_ECANCELED = 26,      /*!< operation canceled */
  KMSDIAG_EPARSE = 27,         /*!< text input could not be parsed */
  KMSDIAG_EKMSREFUSED = 28,    /*!< KMS host answered with a failure
                                    HRESULT */
  KMSDIAG_STATUS_COUNT_        /* not a status: one past the last */
} kmsdiag_status_t;

/*! A short English description of \p st. Never NULL; static storage. */
KMSDIAG_API const char *kmsdiag_strerror(kmsdiag_status_t st);
/*! The enum name of \p st, e.g. "KMSDIAG_ETRUNC". Never NULL. */
KMSDIAG_API const char *kmsdiag_status_name(kmsdiag_status_t st);

#ifdef __cplusplus
}
#endif
#endif
