/* catalogue.c: THE table of codes. One row per code, in ascending numeric
 * order (lookup is a binary search; tests/errors checks the order).
 *
 * Facts come from ../shared/reference/windows-kms-facts.md section 3 (tags
 * in the last column name the sources listed there), kms-protocol.md (what
 * the reference emulator returns) and the interop captures. Rows whose
 * name or message the references do not confirm carry UNV and are shown
 * as "(message not verified)". Wording is our own.
 *
 * Layers: DNS dns, TCP tcp, RPC rpc, KMS kms-response, HOST host-side,
 * CLI client-only, ONL online-activation. */
#include "errors/catalogue.h"

#define DNS KMSDIAG_ERRLAYER_DNS
#define TCP KMSDIAG_ERRLAYER_TCP
#define RPC KMSDIAG_ERRLAYER_RPC
#define KMS KMSDIAG_ERRLAYER_KMS_RESPONSE
#define HOST KMSDIAG_ERRLAYER_HOST_SIDE
#define CLI KMSDIAG_ERRLAYER_CLIENT_ONLY
#define ONL KMSDIAG_ERRLAYER_ONLINE_ACTIVATION
#define UNV KMSDIAG_ERRF_UNVERIFIED

/* A NULL-terminated list of strings (static storage: file-scope compound
 * literal). */
#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NOTHING_KNOWN ((const char *const[]){NULL})

/* ROW(code, name, layers, flags, message, causes, remedies, sources) */
#define ROW(c, n, ly, fl, msg, ca, re, src)                                    \
  {.code = (c), .name = (n), .message = (msg), .layers = (ly), .flags = (fl), \
   .causes = (ca), .remedies = (re), .source = (src)}

/* Remedy phrases used by several rows. */
#define R_SLUI(code) "On the client run `slui.exe 0x2a " code "` to show the local description"
#define R_DLV "Run `slmgr /dlv` on the client and read \"Registered KMS machine name\" / \"KMS machine name from DNS\" to see which host it uses"
#define R_EV12288 "Read the client's Application log event 12288 (HRESULT and Server:Port of each attempt) and, on the host, the \"Key Management Service\" log event 12290"
#define R_SRV "Check the SRV record: `nslookup -type=srv _vlmcs._tcp.<your-dns-domain>` (or `Resolve-DnsName -Type SRV _vlmcs._tcp.<your-dns-domain>`)"
#define R_TNC "Test the path to the host: `Test-NetConnection <kms-host> -Port 1688` (or `psping <kms-host>:1688`)"
#define R_SKMS "Pin a known-good host: `slmgr /skms <kms-host>:1688`, then `slmgr /ato`; `slmgr /ckms` returns to DNS auto-discovery"
#define R_FW "On the KMS host allow inbound TCP 1688: enable the built-in \"Key Management Service\" firewall exception (e.g. `Enable-NetFirewallRule -DisplayGroup \"Key Management Service\"`)"
#define R_SPP "On the KMS host make sure the Software Protection service runs: `Get-Service sppsvc`, `Restart-Service sppsvc`"
#define R_SUFFIX "Check the client's primary DNS suffix and suffix search list with `ipconfig /all`; set them (or use `slmgr /skms-domain <zone>`) so the zone holding _vlmcs._tcp is queried"
#define R_ELEVATE "Run the command from an elevated prompt (Run as administrator)"
#define R_GVLK "Install the KMS client setup key (GVLK) of the installed edition: `slmgr /ipk <GVLK>`, then `slmgr /ato`"
#define R_MAK "Check the MAK in the Volume Licensing Service Center and request more activations or a new key if it is used up or blocked"

static const kmsdiag_error_entry_t catalogue[] = {

/* ---- DCE RPC fault statuses (Fault PDU, type 3) --------------------- */
ROW(0x1C010002, "nca_op_rng_error", RPC, UNV,
    "RPC fault: the operation number is out of range for the interface",
    L("The request named an opnum the KMS interface does not have (KMS has only opnum 0, RequestActivation)",
      "The peer on this port serves another RPC interface or is not a KMS host"),
    L("Capture the exchange and check the request PDU's opnum and the interface UUID bound (51c82175-844e-4750-b0d8-ec255555bc06)",
      R_TNC),
    "DCE RPC C706 fault codes (not in the KMS references)"),

ROW(0x1C010003, "nca_unk_if", RPC, 0,
    "RPC fault: unknown interface or context (the request used a presentation context the server never accepted)",
    L("The request's context id matches no context negotiated in bind/alter_context",
      "The bind offered a transfer syntax or interface the host rejected, and the client sent the request anyway",
      "A broken client or middlebox rewrote the RPC stream"),
    L("Capture the exchange and compare the request's context id with the contexts accepted in the bind_ack",
      "Retry with a plain client (NDR32 only) to see whether the host accepts it"),
    "kms-protocol.md (vlmcsd SendError); interop rpc-raw-fault-unknown-context"),

ROW(0x1C01000B, "nca_proto_error", RPC, 0,
    "RPC fault: protocol error in the request PDU",
    L("The request PDU is malformed, e.g. its RPC version is not 5.0 (strict hosts fault on this)",
      "Something between client and host corrupts the TCP stream"),
    L("Capture the exchange and decode the request PDU header (version, flags, lengths)",
      R_TNC),
    "kms-protocol.md (vlmcsd _PEDANTIC build)"),

/* ---- informational Software Licensing code ---------------------------- */
ROW(0x4004F065, "SL_I_NONGENUINE_GRACE_PERIOD", CLI, 0,
    "Windows runs in its non-genuine grace period (informational status; Microsoft's error table prints it as 0xC004F065)",
    L("Windows Genuine Advantage judged the installation not genuine"),
    L("Install a genuine product key and activate before the grace period ends: `slmgr /ipk <key>`, `slmgr /ato`"),
    "S-ERR, S-SLERR"),

/* ---- HRESULTs ----------------------------------------------------------- */
ROW(0x8004FE21, NULL, CLI, 0,
    "This computer is not running genuine Windows",
    L("Unlicensed language (MUI) packs installed",
      "Malware or altered system files",
      "Corrupted licensing files"),
    L("Remove the unlicensed language packs, or repair/reinstall Windows with licensed media",
      "Check system files with `sfc /scannow`, then `slmgr /ato`"),
    "S-ERR"),

ROW(0x80070005, "E_ACCESSDENIED", CLI, 0,
    "Access denied: the licensing command needs administrator rights",
    L("slmgr or the activation call was run from a prompt without elevation"),
    L(R_ELEVATE),
    "S-ERR"),

ROW(0x8007000D, "ERROR_INVALID_DATA", KMS | CLI, 0,
    "The data is invalid (a KMS host answers with it when it cannot handle the request)",
    L("The KMS host (often an old host or an emulator) does not support the client's KMS protocol version or found the request too short",
      "The client tried to use a KMS host running on the same machine",
      "On the client: the permissions of HKLM\\SYSTEM\\CurrentControlSet\\Enum\\Root were changed so the licensing service cannot enumerate it"),
    L("Point the client at a KMS host that supports its version: update the host (e.g. WS2019 host for WS2022 clients: KB5003646; WS2016 host: KB5003638; WS2012 R2 host: KB4467695; WS2022 host for WS2025 clients: KB5034765) or `slmgr /skms <other-host>`",
      "Do not use the machine itself as its own KMS host",
      "In regedit give SYSTEM the Enumerate Subkeys (and Query Value) permission on HKLM\\SYSTEM\\CurrentControlSet\\Enum\\Root, then `slmgr /ato`"),
    "S-000D; kms-protocol.md (vlmcsd); interop rpc-raw-invalid-kms-payload; ecosystem.md"),

ROW(0x8007007B, "ERROR_INVALID_NAME", DNS, 0,
    "Invalid name: the KMS SRV lookup could not be made or found nothing (Microsoft's table labels it \"DNS name does not exist\")",
    L("The machine has no primary DNS suffix, so the licensing service sends no SRV query at all (typical for workgroup machines)",
      "The _vlmcs._tcp record is not in any zone the client searches",
      "An invalid name was given to `slmgr /skms`"),
    L(R_SUFFIX,
      R_SRV,
      R_SKMS),
    "S-ERR, S-GRANGER"),

ROW(0x80070490, "ERROR_NOT_FOUND", CLI, 0,
    "Element not found: the product key did not work",
    L("The MAK is not valid for this product",
      "Known issue on Windows Server 2019 when the key is entered through the Settings dialog"),
    L("Install the key from an elevated prompt: `slmgr /ipk <key>`, then `slmgr /ato`",
      R_MAK),
    "S-ERR"),

ROW(0x800706B5, "RPC_S_UNKNOWN_IF", RPC, UNV,
    "The interface is unknown: the service on the port answered the KMS RPC bind or call with a fault saying it does not know the KMS interface (nca_unk_if)",
    L("Another RPC service, not a KMS host, listens on the port",
      "The Software Protection service on the host runs without the Key Management Service enabled"),
    L("On the host see which process listens: `netstat -abno | findstr :1688` (KMS is sppsvc)",
      "On the host, `slmgr /dlv` must show \"Key Management Service is enabled on this machine\"",
      R_SRV),
    "winerror.h 1717; kmsdiag reports it per host for a fault with status 0x1C010003 (not in the KMS references)"),

ROW(0x800706B7, "RPC_S_NO_PROTSEQS", RPC, UNV,
    "The RPC bind failed: the host accepted no presentation context (neither NDR32 nor NDR64), or sent bind_nak",
    L("Another RPC service, not a KMS host, listens on the port",
      "A proxy or IPS in the path answers the bind",
      "A broken emulator answers on the port"),
    L("On the host see which process listens: `netstat -abno | findstr :1688` (KMS is sppsvc)",
      R_TNC, R_SRV),
    "kms-protocol.md (vlmcs: \"Could neither negotiate NDR32 nor NDR64\", RPC_S_NO_PROTSEQS 1719)"),

ROW(0x800706BA, "RPC_S_SERVER_UNAVAILABLE", TCP, 0,
    "The RPC server is unavailable: a KMS host name was found but no RPC connection to it could be made",
    L("A firewall drops TCP 1688 on the host or on the path",
      "The SRV or A record points at a host that is gone or no longer runs KMS",
      "The Software Protection service on the host is stopped"),
    L(R_TNC, R_FW, R_SRV, R_SPP),
    "S-ERR"),

ROW(0x800706BE, "RPC_S_CALL_FAILED", RPC | TCP, UNV,
    "The remote procedure call failed after the connection was made",
    L("The host or a middlebox closed or reset the connection during the call",
      "The host crashed or rejected the call"),
    L(R_TNC, R_EV12288, "Capture the exchange on the client and look for a reset or fault after the request"),
    "winerror.h 1726 (not in the KMS references)"),

ROW(0x800706C0, "RPC_S_PROTOCOL_ERROR", RPC, 0,
    "An RPC protocol error occurred: the answer was not the expected RPC packet",
    L("The host answered with a Fault PDU or an unexpected packet type",
      "The port is served by something that is not a KMS host"),
    L("Capture the exchange and decode the answer (fault status, packet type)", R_TNC),
    "kms-protocol.md (vlmcs checkRpcHeader returns 1728)"),

ROW(0x800706E4, "RPC_S_CANNOT_SUPPORT", RPC, 0,
    "The requested RPC operation is not supported (unexpected PDU flags, version or syntax)",
    L("The host negotiated something the client cannot use (packet version, flags or transfer syntax)",
      "A non-KMS service or a broken emulator answers on the port"),
    L("Capture the exchange and compare the bind_ack with what the client offered", R_TNC),
    "kms-protocol.md (vlmcs rejects with RPC_S_CANNOT_SUPPORT)"),

ROW(0x800706F7, "RPC_X_BAD_STUB_DATA", RPC, UNV,
    "The stub received bad data: the RPC payload could not be unmarshalled (also seen as fault status 0x000006F7)",
    L("The request or response body does not match the interface's NDR layout (wrong transfer syntax, truncated or corrupted stub)",
      "A KMS client or emulator built the request incorrectly"),
    L("Capture the exchange and decode the request and response stubs (NDR32 vs NDR64, sizes)",
      R_EV12288),
    "winerror.h 1783 (not in the KMS references)"),

ROW(0x8007071C, "RPC_S_COMM_FAILURE", RPC | TCP, UNV,
    "A communications failure occurred during the remote procedure call",
    L("The connection broke during the exchange (reset, timeout, VPN or proxy interference)",
      "Host/protocol mismatch while talking to the KMS host"),
    L(R_TNC, "Retry with an older KMS protocol version against the same host to rule out a version mismatch",
      R_EV12288),
    "ecosystem.md (RPC failure 0x71C); name from winerror.h 1820"),

ROW(0x8007139F, "ERROR_INVALID_STATE", TCP, 0,
    "The group or resource is not in the correct state (event 8198: the KMS host could not be contacted)",
    L("Forced tunnelling, VPN or DirectAccess routes the KMS traffic away from the host",
      "A firewall blocks TCP 1688",
      "DNS returns no or the wrong host, or `/skms` names the wrong host",
      "The Software Protection service on the client is stuck"),
    L("Exempt TCP 1688 to the KMS host from the tunnel/VPN", R_TNC, R_DLV,
      "Restart the client's Software Protection service: `Restart-Service sppsvc`, then `slmgr /ato`"),
    "S-8198"),

ROW(0x8007232A, "DNS_ERROR_RCODE_SERVER_FAILURE", DNS, 0,
    "DNS server failure: the SRV query itself failed (no answer or SERVFAIL)",
    L("The configured DNS server is down or unreachable",
      "UDP/TCP 53 is blocked between client and DNS server",
      "The client has no DNS server configured"),
    L("Check the DNS servers with `ipconfig /all` and test them: `nslookup -type=srv _vlmcs._tcp.<your-dns-domain> <dns-server>`",
      "Open UDP and TCP 53 to the DNS server",
      R_SKMS),
    "S-232A, S-ERR"),

ROW(0x8007232B, "DNS_ERROR_RCODE_NAME_ERROR", DNS, 0,
    "DNS name does not exist: the _vlmcs._tcp SRV record (or the host named with /skms) was not found",
    L("No KMS host has published _vlmcs._tcp in the client's zone (DNS publishing disabled or refused)",
      "The client searches other zones than the one holding the record (primary suffix, search list)",
      "`slmgr /skms` names a host that does not resolve",
      "The client's DNS server does not forward to the zone that has the record"),
    L(R_SRV, R_SUFFIX, R_DLV,
      "Publish the record: on the host `slmgr /sdns` (or create the SRV record by hand: _vlmcs._tcp, priority 0, weight 0, port 1688, target FQDN)",
      R_SKMS),
    "S-232B, S-ERR"),

ROW(0x80072338, "DNS_ERROR_RCODE_BADSIG", DNS | HOST, 0,
    "DNS signature failed to verify (KMS host event 12293: publishing the SRV record failed)",
    L("Another KMS host created _VLMCS._TCP first and owns it; this host lacks the rights to update it"),
    L("Grant the KMS host's computer account Full Control on the existing _VLMCS._TCP record in DNS Manager",
      "Then restart the host's Software Protection service (`Restart-Service sppsvc`) and look for event 12294 (publish succeeded)"),
    "S-12293"),

ROW(0x8007251D, "DNS_INFO_NO_RECORDS", DNS, 0,
    "No records found for the DNS query: the name exists but holds no SRV data",
    L("The _vlmcs._tcp name exists without an SRV record (deleted, wrong type)"),
    L(R_SRV, "Recreate the SRV record or re-enable publishing on the host (`slmgr /sdns`)", R_SKMS),
    "S-ERR"),

ROW(0x80072746, "WSAECONNRESET", TCP, UNV,
    "The connection was reset by the peer",
    L("The host or a firewall sent a reset during the exchange",
      "A security product on client or host cut the connection"),
    L(R_TNC, "Capture on the client and on the host to find who sends the reset"),
    "winsock 10054 (not in the KMS references)"),

ROW(0x8007274C, "WSAETIMEDOUT", TCP, UNV,
    "The connection attempt timed out: nothing answered on the KMS port",
    L("A firewall silently drops TCP 1688", "The host is down or the address is stale",
      "Routing or VPN sends the traffic elsewhere"),
    L(R_TNC, R_FW, R_SRV),
    "winsock 10060 (not in the KMS references)"),

ROW(0x8007274D, "WSAECONNREFUSED", TCP, UNV,
    "The connection was refused: the host is up but nothing listens on the port",
    L("The KMS service is not running or listens on another port (`slmgr /sprt`)",
      "The SRV record or `/skms` gives the wrong port",
      "A firewall rejects (resets) the connection"),
    L(R_TNC, R_SPP, "On the host, `slmgr /dlv` shows \"Listening on Port\"; compare it with the SRV record and `/skms`"),
    "winsock 10061 (not in the KMS references); interop err-conn-refused"),

ROW(0x80072751, "WSAEHOSTUNREACH", TCP, UNV,
    "No route to the KMS host",
    L("The host address is not reachable from this network (routing, VPN, stale address)"),
    L(R_TNC, "Check the route: `tracert <kms-host>`", R_SRV),
    "winsock 10065 (not in the KMS references)"),

ROW(0x80072EE7, "ERROR_INTERNET_NAME_NOT_RESOLVED", ONL, UNV,
    "The server name could not be resolved (online activation with Microsoft)",
    L("The machine activating online (KMS host with its CSVLK, or a MAK client) cannot resolve Microsoft's activation endpoints",
      "Proxy or DNS configuration blocks name resolution for the activation servers"),
    L("Fix DNS or proxy settings for the activating machine, then `slmgr /ato`",
      "Or activate by phone: `slui 4`"),
    "windows-kms-facts.md section 3 (winerror.h 12007)"),

ROW(0x80072F8F, "ERROR_INTERNET_SECURE_FAILURE", ONL, UNV,
    "A secure channel (TLS) error occurred during online activation",
    L("The machine's clock is wrong", "A proxy inspects TLS", "Root certificates are missing or outdated"),
    L("Correct the time (`w32tm /resync`), bypass TLS inspection for the activation servers, update root certificates, then `slmgr /ato`"),
    "windows-kms-facts.md section 3 (winerror.h 12175)"),

ROW(0x80092328, NULL, DNS, UNV,
    "Listed in Microsoft's table as \"DNS name does not exist\"; probably a typo for 0x8007232B",
    L("Same as 0x8007232B: the KMS SRV record was not found"),
    L("Treat it as 0x8007232B: `kms-error 0x8007232B`", R_SRV),
    "S-ERR (kept as an alias)"),

/* ---- NTSTATUS ------------------------------------------------------------ */
ROW(0xC0020017, "RPC_NT_SERVER_UNAVAILABLE", TCP, UNV,
    "The RPC server is unavailable (event 8198: the KMS host could not be contacted; like 0xC004F074)",
    L("Forced tunnelling, VPN or DirectAccess routes the KMS traffic away from the host",
      "A firewall blocks TCP 1688",
      "DNS returns no or the wrong host, or `/skms` names the wrong host",
      "The Software Protection service on the client is stuck"),
    L("Exempt TCP 1688 to the KMS host from the tunnel/VPN", R_TNC, R_DLV,
      "Restart the client's Software Protection service: `Restart-Service sppsvc`, then `slmgr /ato`"),
    "S-8198 (the facts mark the name [?]; a public ntstatus.h gives this value the same name)"),

/* ---- Software Licensing (slerror.h) -------------------------------------- */
ROW(0xC004B100, "SL_E_SRV_GENERAL_ERROR", ONL, 0,
    "The activation server could not activate the computer",
    L("The MAK is not supported for this product"),
    L(R_MAK, "Activate by phone: `slui 4`"),
    "S-ERR"),

ROW(0xC004C001, "SL_E_CHPA_PRODUCT_KEY_OUT_OF_RANGE", ONL, 0,
    "The activation server says the product key is invalid",
    L("A wrong or mistyped MAK was installed"),
    L("Re-enter the MAK: `slmgr /ipk <MAK>`, `slmgr /ato`", R_MAK),
    "S-ERR, S-SLERR"),

ROW(0xC004C003, "SL_E_CHPA_PRODUCT_KEY_BLOCKED", ONL, 0,
    "The activation server says the product key is blocked",
    L("Microsoft blocked the MAK"),
    L("Obtain a new MAK and install it: `slmgr /ipk <MAK>`, `slmgr /ato`"),
    "S-ERR"),

ROW(0xC004C008, "SL_E_CHPA_MAXIMUM_UNLOCK_EXCEEDED", ONL, 0,
    "The activation server says the key cannot be used any more",
    L("The KMS host key (CSVLK) was used beyond its limit: 10 activations on up to 6 hosts"),
    L("Request more activations for the CSVLK from Microsoft (Volume Licensing support)",
      "Reuse an existing KMS host instead of activating another"),
    "S-ERR, S-PLAN"),

ROW(0xC004C020, "SL_E_CHPA_DMAK_LIMIT_EXCEEDED", ONL, 0,
    "The Multiple Activation Key has exceeded its limit",
    L("All activations allowed for the MAK are used"),
    L(R_MAK),
    "S-ERR"),

ROW(0xC004C021, "SL_E_CHPA_DMAK_EXTENSION_LIMIT_EXCEEDED", ONL, 0,
    "The Multiple Activation Key extension limit has been exceeded",
    L("All activations allowed for the MAK are used, including extensions"),
    L(R_MAK),
    "S-ERR"),

ROW(0xC004D104, "SL_REMAPPING_SP_STATUS_INVALIDARG", KMS, UNV,
    "The security processor reported that invalid data was used",
    L("The KMS host refused the request; the reference emulator returns it when its client table is full (more than 671 distinct CMIDs)",
      "Corrupted licensing data on the answering side"),
    L(R_EV12288, "Try another KMS host: `slmgr /skms <other-host>`, `slmgr /ato`", R_SLUI("0xC004D104")),
    "kms-protocol.md (vlmcs text, vlmcsd -M1); name from a public slerror table"),

ROW(0xC004D302, "SL_REMAPPING_SP_PUB_TS_REARMED", CLI, UNV,
    "The trusted store was rearmed; a restart is pending",
    L("`slmgr /rearm` or sysprep ran and the machine has not restarted yet"),
    L("Restart the computer, then `slmgr /ato`"),
    "S-SLERR"),

ROW(0xC004D307, "SL_REMAPPING_SP_PUB_TS_MAX_REARM_REACHED", CLI, 0,
    "The maximum allowed number of rearms has been exceeded",
    L("`slmgr /rearm` (or sysprep without SkipRearm) was run more often than allowed"),
    L("Activate with a valid key instead of rearming (`slmgr /ato`), or reinstall Windows",
      "Check the remaining count with `slmgr /dlv` (\"Remaining Windows rearm count\")"),
    "S-SLMGRVBS"),

ROW(0xC004E016, "SL_E_PKEY_INVALID_CONFIG", CLI, UNV,
    "The product key configuration is invalid for this edition",
    L("The installed key (e.g. a GVLK) belongs to another edition"),
    L(R_GVLK),
    "S-SLERR"),

ROW(0xC004F009, "SL_E_GRACE_TIME_EXPIRED", CLI, 0,
    "The grace period expired before the system was activated",
    L("The machine was not activated in time and is now in notification state"),
    L(R_DLV, "Fix what blocks activation, then `slmgr /ato`"),
    "S-ERR"),

ROW(0xC004F00F, "SL_E_OUT_OF_TOLERANCE", CLI, 0,
    "The hardware ID binding is beyond the tolerance level",
    L("Hardware or drivers changed enough to alter the hardware ID"),
    L("KMS client: restart, or reactivate with `slmgr /ato`",
      "MAK: reactivate online (`slmgr /ato`) or by phone (`slui 4`)"),
    "S-ERR"),

ROW(0xC004F012, "SL_E_VALUE_NOT_FOUND", CLI, UNV,
    "A licensing value was not found for the given key",
    L("The licence store (tokens.dat) is damaged"),
    L("Rebuild the licence store (Microsoft's procedure to rebuild tokens.dat: stop sppsvc, rename tokens.dat, start sppsvc, `slmgr /rilc`), then restart and `slmgr /ato`"),
    "S-SLERR; windowsserverdocs activation-rebuild-tokens-dat-file.md"),

ROW(0xC004F014, "SL_E_PKEY_NOT_INSTALLED", CLI, 0,
    "No product key is installed",
    L("The machine has no key at all (e.g. deployed without one)"),
    L(R_GVLK, "Or install a MAK: `slmgr /ipk <MAK>`, `slmgr /ato`"),
    "S-ERR"),

ROW(0xC004F015, "SL_E_PRODUCT_SKU_NOT_INSTALLED", HOST | KMS, 0,
    "The licence for the product is not installed (KMS host event 12290, often with detail 0xC004F042)",
    L("A plain Windows 10 CSVLK is installed on a Windows Server 2012 R2 / 2008 R2 host that must also activate server clients"),
    L("Install the \"Windows Srv 2012R2 DataCtr/Std KMS for Windows 10\" CSVLK and the host update, then `slmgr /ipk <CSVLK>`, `slmgr /ato` on the host"),
    "S-F015, S-SLERR"),

ROW(0xC004F02C, "SL_E_CIDIID_INVALID_DATA", CLI, 0,
    "The format of the offline activation data is incorrect",
    L("The Confirmation ID was mistyped"),
    L("Re-enter the Confirmation ID (`slui 4`, or `slmgr /atp <CID>`)"),
    "S-ERR"),

ROW(0xC004F035, "SL_E_VL_NOT_WINDOWS_SLP", CLI, 0,
    "The computer cannot be activated with a volume licence key (no qualifying OEM marker)",
    L("A Windows 7 volume edition runs on a PC whose BIOS lacks the qualifying OEM licence marker"),
    L("Use a MAK or retail key (`slmgr /ipk <key>`, `slmgr /ato`) or activate by phone (`slui 4`)"),
    "S-ERR"),

ROW(0xC004F038, "SL_E_VL_NOT_ENOUGH_COUNT", KMS, 0,
    "The count the KMS host reported is too low to activate this client",
    L("The host has seen fewer than 25 clients (Windows client editions) or 5 (servers, Office) in the last 30 days",
      "Cloned machines share a CMID, so the host counts them once (sysprep /generalize was skipped)",
      "The clients are spread over too many KMS hosts"),
    L("On the host run `slmgr /dlv` and read \"Current count\"",
      "Generalize cloned images (`sysprep /generalize`) or reset the CMID with `slmgr /rearm` and restart",
      "Add clients or consolidate KMS hosts, then `slmgr /ato`"),
    "S-ERR, S-GEN, S-PLAN"),

ROW(0xC004F039, "SL_E_VL_BINDING_SERVICE_NOT_ENABLED", TCP | KMS, 0,
    "The KMS is not enabled: it did not answer the activation request",
    L("The KMS host did not respond (service stopped, TCP 1688 filtered)"),
    L(R_TNC, R_FW, R_SPP),
    "S-ERR"),

ROW(0xC004F041, "SL_E_VL_KEY_MANAGEMENT_SERVICE_NOT_ACTIVATED", KMS, 0,
    "The KMS host is not activated",
    L("The host's CSVLK has not been activated with Microsoft yet"),
    L("On the host: `slmgr /ato` (online) or `slui 4` (phone), then check `slmgr /dlv`"),
    "S-ERR"),

ROW(0xC004F042, "SL_E_VL_KEY_MANAGEMENT_SERVICE_ID_MISMATCH", KMS, 0,
    "The KMS host cannot activate this product",
    L("The host's CSVLK group does not cover the client's product (e.g. a Windows Server 2016 host key and a Windows Server 2022 client)",
      "The host lacks the update that lets it activate newer clients",
      "The host is an application-only host (e.g. Office only)"),
    L("Install a newer CSVLK on the host (`slmgr /ipk <CSVLK>`, `slmgr /ato`) with the host's required update (WS2022 host -> WS2025 clients: KB5034765; WS2019 host -> WS2025: KB5034768, -> WS2022: KB5003646; WS2016 host -> WS2022/2019: KB5003638; WS2012 R2 host -> 2019/2016/Win10: KB4467695); `kms-info can-activate --epid EPID --product NAME` tells which host key covers the client",
      "Or point the client at a host that covers it: `slmgr /skms <right-host>:1688`, `slmgr /ato`"),
    "S-F042, S-ERR; interop err-unknown-kmsid-whitelist"),

ROW(0xC004F050, "SL_E_INVALID_PRODUCT_KEY", CLI, 0,
    "The product key is invalid",
    L("Mistyped key, a beta key on a released version, or dashes replaced by other characters when pasting"),
    L("Re-enter the right key for this version: `slmgr /ipk <key>`"),
    "S-ERR"),

ROW(0xC004F051, "SL_E_BLOCKED_PRODUCT_KEY", ONL | CLI, 0,
    "The product key is blocked",
    L("Microsoft blocked the key"),
    L("Obtain a new MAK or KMS host key and install it: `slmgr /ipk <key>`, `slmgr /ato`"),
    "S-ERR"),

ROW(0xC004F056, "SL_E_VL_MACHINE_NOT_BOUND", CLI, UNV,
    "The machine is not bound to a volume activation (no valid KMS activation)",
    NOTHING_KNOWN,
    L(R_DLV, "Retry the KMS activation: `slmgr /ato`", R_SLUI("0xC004F056")),
    "S-SLERR (name only)"),

ROW(0xC004F059, "SL_E_SLP_BAD_FORMAT", CLI, UNV,
    "The OEM licence marker in the BIOS is malformed",
    L("OEM activation data in the firmware is damaged or wrong"),
    L("Contact the OEM for a BIOS update, or use a MAK/retail key"),
    "S-SLERR"),

ROW(0xC004F05F, NULL, CLI, UNV,
    "Not described by the references consulted",
    NOTHING_KNOWN,
    L(R_SLUI("0xC004F05F")),
    "gap in windows-kms-facts.md"),

ROW(0xC004F063, "SL_E_SLP_OEM_CERT_MISSING", CLI, 0,
    "The BIOS is missing a required licence",
    L("The OEM licence data or service tag is wrong, e.g. after a motherboard replacement"),
    L("Ask the OEM for a BIOS update that restores the licence data"),
    "S-F063"),

ROW(0xC004F064, "SL_E_NONGENUINE_GRACE_TIME_EXPIRED", CLI, 0,
    "The non-genuine grace period expired",
    L("Windows Genuine Advantage judged the installation not genuine and the grace period ended"),
    L("Install a genuine key and activate (`slmgr /ipk <key>`, `slmgr /ato`) or contact the activation centre (`slui 4`)"),
    "S-ERR"),

ROW(0xC004F065, "SL_I_NONGENUINE_GRACE_PERIOD", CLI, 0,
    "Windows runs in its valid non-genuine period (Microsoft's table prints the informational status 0x4004F065 this way)",
    L("Windows Genuine Advantage judged the installation not genuine"),
    L("Install a genuine product key and activate before the grace period ends: `slmgr /ipk <key>`, `slmgr /ato`"),
    "S-ERR, S-SLERR"),

ROW(0xC004F069, "SL_E_MISMATCHED_PRODUCT_SKU", CLI, UNV,
    "The product key does not match the installed edition (SKU)",
    L("The key belongs to another edition than the one installed"),
    L(R_GVLK, "Or convert the edition to match the key"),
    "S-SLERR"),

ROW(0xC004F06B, "SL_E_VL_KEY_MANAGEMENT_SERVICE_VM_NOT_SUPPORTED", KMS | CLI, 0,
    "The machine runs in a virtual machine and this KMS mode does not support VMs (Vista-era behaviour)",
    L("An old KMS host or client version that does not allow activation inside a virtual machine"),
    L("Update the KMS host, or activate the VM with a MAK (`slmgr /ipk <MAK>`, `slmgr /ato`)"),
    "S-SLMGRVBS"),

ROW(0xC004F06C, "SL_E_VL_INVALID_TIMESTAMP", KMS, 0,
    "The KMS host found the request's timestamp invalid",
    L("Clock skew: the client's and the host's UTC clocks differ by more than 4 hours (time zones do not matter)"),
    L("Synchronise the clocks: `w32tm /resync` on the client (and the host), check with `w32tm /stripchart /computer:<kms-host> /samples:3`",
      "Then `slmgr /ato`"),
    "S-F074, S-ERR"),

ROW(0xC004F074, "SL_E_VL_BINDING_SERVICE_UNAVAILABLE", DNS | TCP | KMS, 0,
    "No Key Management Service could be contacted; the reason for each attempt is in the Application event log",
    L("The Software Protection service on the KMS host is stopped",
      "TCP 1688 is blocked between client and host",
      "The SRV or A record (or a stale `/skms` pin) points at the wrong or a dead host",
      "The host is too old for the client's version",
      "Clock skew: client and host clocks differ by more than 4 hours"),
    L(R_EV12288, R_DLV, R_TNC, R_SRV, R_SPP, R_SKMS,
      "Sync time: `w32tm /resync`"),
    "S-F074, S-ERR, S-SLERR; interop err-conn-refused"),

ROW(0xC004F200, "SL_E_NOT_GENUINE", CLI, 0,
    "The installation is not genuine",
    L("Windows Genuine Advantage judged the installation not genuine"),
    L("Install a genuine key and activate: `slmgr /ipk <key>`, `slmgr /ato`", R_SLUI("0xC004F200")),
    "S-SLERR, S-SLMGRVBS"),
};

const kmsdiag_error_entry_t *kd_err_table(size_t *count) {
  *count = sizeof catalogue / sizeof catalogue[0];
  return catalogue;
}
