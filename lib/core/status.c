/* status.c: names and descriptions of kmsdiag_status_t. */
#include <kmsdiag/kmsdiag_status.h>

static const struct {
  const char *name;
  const char *text;
} status_table[KMSDIAG_STATUS_COUNT_] = {
    [KMSDIAG_OK] = {"KMSDIAG_OK", "success"},
    [KMSDIAG_EINVAL] = {"KMSDIAG_EINVAL", "invalid argument"},
    [KMSDIAG_ENOMEM] = {"KMSDIAG_ENOMEM", "out of memory"},
    [KMSDIAG_ETRUNC] = {"KMSDIAG_ETRUNC",
                        "input truncated: it ends before a field it announces"},
    [KMSDIAG_EMALFORMED] = {"KMSDIAG_EMALFORMED", "malformed input"},
    [KMSDIAG_EUNSUPPORTED] = {"KMSDIAG_EUNSUPPORTED",
                              "well formed but not supported"},
    [KMSDIAG_ETOOBIG] = {"KMSDIAG_ETOOBIG", "length or count exceeds a limit"},
    [KMSDIAG_ENOTFOUND] = {"KMSDIAG_ENOTFOUND", "not found"},
    [KMSDIAG_EIO] = {"KMSDIAG_EIO", "input/output error"},
    [KMSDIAG_ESYS] = {"KMSDIAG_ESYS", "system call failed"},
    [KMSDIAG_ETIMEOUT] = {"KMSDIAG_ETIMEOUT", "timed out"},
    [KMSDIAG_ECONNREFUSED] = {"KMSDIAG_ECONNREFUSED", "connection refused"},
    [KMSDIAG_ECONNRESET] = {"KMSDIAG_ECONNRESET", "connection reset by peer"},
    [KMSDIAG_EUNREACH] = {"KMSDIAG_EUNREACH", "network or host unreachable"},
    [KMSDIAG_EDNS] = {"KMSDIAG_EDNS", "DNS resolution failed"},
    [KMSDIAG_EVERIFY] = {"KMSDIAG_EVERIFY", "verification failed"},
    [KMSDIAG_ECRYPTO] = {"KMSDIAG_ECRYPTO", "cryptographic operation failed"},
    [KMSDIAG_EPCAP] = {"KMSDIAG_EPCAP", "packet capture error"},
    [KMSDIAG_EAMBIGUOUS] = {"KMSDIAG_EAMBIGUOUS", "ambiguous: several match"},
    [KMSDIAG_EBINDREJECT] = {"KMSDIAG_EBINDREJECT", "RPC bind rejected"},
    [KMSDIAG_ERPCFAULT] = {"KMSDIAG_ERPCFAULT", "RPC fault received"},
    [KMSDIAG_EPROTO] = {"KMSDIAG_EPROTO", "protocol violation by the peer"},
    [KMSDIAG_ECLOSED] = {"KMSDIAG_ECLOSED", "connection closed by the peer"},
    [KMSDIAG_ESTATE] = {"KMSDIAG_ESTATE", "call not valid in this state"},
    [KMSDIAG_EAUTH] = {"KMSDIAG_EAUTH",
                       "RPC authentication present (KMS uses none)"},
    [KMSDIAG_ELIMIT] = {"KMSDIAG_ELIMIT", "internal resource limit reached"},
    [KMSDIAG_ECANCELED] = {"KMSDIAG_ECANCELED", "canceled"},
    [KMSDIAG_EPARSE] = {"KMSDIAG_EPARSE", "text could not be parsed"},
    [KMSDIAG_EKMSREFUSED] = {"KMSDIAG_EKMSREFUSED",
                             "KMS host refused the request"},
};

const char *kmsdiag_strerror(kmsdiag_status_t st) {
  if ((unsigned)st < KMSDIAG_STATUS_COUNT_ && status_table[st].text)
    return status_table[st].text;
  return "unknown status";
}

const char *kmsdiag_status_name(kmsdiag_status_t st) {
  if ((unsigned)st < KMSDIAG_STATUS_COUNT_ && status_table[st].name)
    return status_table[st].name;
  return "KMSDIAG_UNKNOWN";
}
