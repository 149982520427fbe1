/* kmsdiag.h: umbrella header of libkmsdiag, diagnostics for Windows KMS
 * volume activation. Include this one header. */
#ifndef KMSDIAG_H
#define KMSDIAG_H

#include <kmsdiag/kmsdiag_export.h>
#include <kmsdiag/kmsdiag_version.h>
#include <kmsdiag/kmsdiag_status.h>
#include <kmsdiag/kmsdiag_log.h>
#include <kmsdiag/kmsdiag_out.h>
#include <kmsdiag/kmsdiag_types.h>
/* Module headers: added as the modules land. */
#if __has_include(<kmsdiag/kmsdiag_errors.h>)
#include <kmsdiag/kmsdiag_errors.h>
#endif
#if __has_include(<kmsdiag/kmsdiag_rpc.h>)
#include <kmsdiag/kmsdiag_rpc.h>
#endif
#if __has_include(<kmsdiag/kmsdiag_kms.h>)
#include <kmsdiag/kmsdiag_kms.h>
#endif
#if __has_include(<kmsdiag/kmsdiag_products.h>)
#include <kmsdiag/kmsdiag_products.h>
#endif
#if __has_include(<kmsdiag/kmsdiag_epid.h>)
#include <kmsdiag/kmsdiag_epid.h>
#endif
#if __has_include(<kmsdiag/kmsdiag_dns.h>)
#include <kmsdiag/kmsdiag_dns.h>
#endif
#if __has_include(<kmsdiag/kmsdiag_zone.h>)
#include <kmsdiag/kmsdiag_zone.h>
#endif
#if __has_include(<kmsdiag/kmsdiag_capture.h>)
#include <kmsdiag/kmsdiag_capture.h>
#endif
#if __has_include(<kmsdiag/kmsdiag_probe.h>)
#include <kmsdiag/kmsdiag_probe.h>
#endif

#if __has_include(<kmsdiag/kmsdiag_slmgr.h>)
#include <kmsdiag/kmsdiag_slmgr.h>
#endif
#if __has_include(<kmsdiag/kmsdiag_doctor.h>)
#include <kmsdiag/kmsdiag_doctor.h>
#endif
#endif
