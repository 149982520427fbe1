/* kmsdiag.h: umbrella header of libkmsdiag, diagnostics for Windows KMS
 * volume activation. Include this one header. */
#ifndef KMSDIAG_H
#define KMSDIAG_H

/* core: export macros, version, status codes, log hook, output helpers,
 * GUID and FILETIME */
#include <kmsdiag/kmsdiag_export.h>
#include <kmsdiag/kmsdiag_version.h>
#include <kmsdiag/kmsdiag_status.h>
#include <kmsdiag/kmsdiag_log.h>
#include <kmsdiag/kmsdiag_out.h>
#include <kmsdiag/kmsdiag_types.h>

/* the error catalogue (HRESULTs, Win32, RPC statuses) */
#include <kmsdiag/kmsdiag_errors.h>
/* the wire protocol: DCE/RPC and KMS V4/V5/V6 */
#include <kmsdiag/kmsdiag_rpc.h>
#include <kmsdiag/kmsdiag_kms.h>
/* product knowledge and host ePIDs */
#include <kmsdiag/kmsdiag_products.h>
#include <kmsdiag/kmsdiag_epid.h>
/* DNS discovery and zone-file checks */
#include <kmsdiag/kmsdiag_dns.h>
#include <kmsdiag/kmsdiag_zone.h>
/* capture analysis */
#include <kmsdiag/kmsdiag_capture.h>
/* probing hosts */
#include <kmsdiag/kmsdiag_probe.h>
/* slmgr /dlv text and the doctor */
#include <kmsdiag/kmsdiag_slmgr.h>
#include <kmsdiag/kmsdiag_doctor.h>

#endif
