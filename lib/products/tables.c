/* tables.c: product knowledge, one row per fact.
 *
 * Source of every value: the project's facts file
 * (windows-kms-facts.md), sections 2 (host key groups), 4 (GVLKs, from
 * Microsoft's "KMS client activation keys" page), 5 (application IDs, KMS
 * counted IDs, SKU IDs, CSVLK ePID parameters, from py-kms / vlmcsd data)
 * and 6 (ePID platform IDs and host builds). Confidence per row:
 *   MS  Microsoft documentation
 *   RE  public reverse-engineered data (py-kms KmsDataBase.xml, vlmcsd)
 *   UNV flagged in the facts file, or inferred here; the note says which.
 * Rows that combine facts take the weakest confidence. */
#include "tables.h"

/* A GUID written as its five hex groups, e.g.
 * KD_GUID(55c92734, d682, 4d71, 983e, d6ec3f16059f) for
 * 55c92734-d682-4d71-983e-d6ec3f16059f. */
#define KD_GUID(a, b, c, d, e)                                                 \
  {                                                                            \
    0x##a##u, 0x##b##u, 0x##c##u, {                                            \
      (uint8_t)(0x##d##u >> 8), (uint8_t)(0x##d##u & 0xffu),                   \
          (uint8_t)(0x##e##ull >> 40), (uint8_t)((0x##e##ull >> 32) & 0xffu),  \
          (uint8_t)((0x##e##ull >> 24) & 0xffu),                               \
          (uint8_t)((0x##e##ull >> 16) & 0xffu),                               \
          (uint8_t)((0x##e##ull >> 8) & 0xffu), (uint8_t)(0x##e##ull & 0xffu)  \
    }                                                                          \
  }

#define MS KMSDIAG_CONF_MS
#define RE KMSDIAG_CONF_RE
#define UNV KMSDIAG_CONF_UNVERIFIED
#define CLI KMSDIAG_FAMILY_WINDOWS_CLIENT
#define SRV KMSDIAG_FAMILY_WINDOWS_SERVER
#define OFF KMSDIAG_FAMILY_OFFICE
#define L(x) KMSDIAG_LINE_BIT(KMSDIAG_LINE_##x)

/* ---- product lines ------------------------------------------------------ */

const char *const kd_line_names[KMSDIAG_LINE_COUNT_] = {
    [KMSDIAG_LINE_VISTA] = "Windows Vista",
    [KMSDIAG_LINE_WIN7] = "Windows 7",
    [KMSDIAG_LINE_WIN8] = "Windows 8",
    [KMSDIAG_LINE_WIN81] = "Windows 8.1",
    [KMSDIAG_LINE_WIN10] = "Windows 10",
    [KMSDIAG_LINE_WIN11] = "Windows 11",
    [KMSDIAG_LINE_WIN10_LTSB2015] = "Windows 10 Enterprise LTSB 2015",
    [KMSDIAG_LINE_WIN10_LTSB2016] = "Windows 10 Enterprise LTSB 2016",
    [KMSDIAG_LINE_WIN10_LTSC] = "Windows 10 Enterprise LTSC 2019/2021",
    [KMSDIAG_LINE_WIN11_LTSC2024] = "Windows 11 Enterprise LTSC 2024",
    [KMSDIAG_LINE_WIN_GOV] = "Windows 10/11 Enterprise G",
    [KMSDIAG_LINE_WS2008] = "Windows Server 2008",
    [KMSDIAG_LINE_WS2008R2] = "Windows Server 2008 R2",
    [KMSDIAG_LINE_WS2012] = "Windows Server 2012",
    [KMSDIAG_LINE_WS2012R2] = "Windows Server 2012 R2",
    [KMSDIAG_LINE_WS2016] = "Windows Server 2016",
    [KMSDIAG_LINE_WS_SAC] = "Windows Server SAC",
    [KMSDIAG_LINE_WS2019] = "Windows Server 2019",
    [KMSDIAG_LINE_WS2022] = "Windows Server 2022",
    [KMSDIAG_LINE_WS2025] = "Windows Server 2025",
    [KMSDIAG_LINE_OFFICE2010] = "Office 2010",
    [KMSDIAG_LINE_OFFICE2013] = "Office 2013",
    [KMSDIAG_LINE_OFFICE2016] = "Office 2016",
    [KMSDIAG_LINE_OFFICE2019] = "Office 2019",
    [KMSDIAG_LINE_OFFICE2021] = "Office LTSC 2021",
    [KMSDIAG_LINE_OFFICE2024] = "Office LTSC 2024",
};

/* ---- 5.1 application IDs ------------------------------------------------ */

enum { APP_WINDOWS, APP_OFFICE14, APP_OFFICE };

const kmsdiag_app_t kd_apps[] = {
    /* also hard-coded in Microsoft's slmgr.vbs (WindowsAppId) */
    [APP_WINDOWS] = {KD_GUID(55c92734, d682, 4d71, 983e, d6ec3f16059f),
                     "Windows", MS},
    [APP_OFFICE14] = {KD_GUID(59a52881, a989, 479d, af46, f275c6370663),
                      "Office 2010", RE},
    [APP_OFFICE] = {KD_GUID(0ff1ce15, a989, 479d, af46, f275c6370663),
                    "Office 2013 and later", RE},
};
const size_t kd_apps_n = sizeof kd_apps / sizeof kd_apps[0];

/* ---- 5.2 KMS counted IDs ------------------------------------------------ */

enum {
  K_WS2025, K_WS2022, K_WS2019, K_WS2016, K_WS2012R2, K_WS2012,
  K_WS2008R2_A, K_WS2008R2_B, K_WS2008R2_C, K_WS2008_A, K_WS2008_B,
  K_WS2008_C, K_W10_RDSH, K_W10_2015, K_W10_2016, K_W10_2019, K_W10_RETAIL,
  K_W10_GOV, K_W81_VOL, K_W81_RETAIL, K_W8_VOL, K_W8_RETAIL, K_W7, K_VISTA,
  K_O2010, K_O2013, K_O2016, K_O2019, K_O2021, K_O2024, K_COUNT_
};

#define PLACEHOLDER_NOTE                                                       \
  "py-kms marks this counted ID as a possible placeholder (UUID version 5); " \
  "not authoritative"

#define G(idx, id, name, fam, app, n, proto, conf, note)                       \
  [idx] = {id, name, fam, &kd_apps[app], n, proto, 0, conf, note}

const kmsdiag_kms_group_t kd_groups[] = {
    G(K_WS2025, KD_GUID(4b83307d, 7788, 50ff, 8d1f, 1861915bdb9d),
      "Windows Server 2025", SRV, APP_WINDOWS, 5, 6, UNV, PLACEHOLDER_NOTE),
    G(K_WS2022, KD_GUID(b74263e4, 0f92, 46c6, bcf8, c11d5efe2959),
      "Windows Server 2022", SRV, APP_WINDOWS, 5, 6, UNV,
      "py-kms lists this ID, but its WS2022 host key entry activates "
      "10a7e9fb-ca8c-5352-88f5-91b8dbe13b22 instead; not authoritative"),
    G(K_WS2019, KD_GUID(8449b1fb, f0ea, 497a, 99ab, 66ca96e9a0f5),
      "Windows Server 2019", SRV, APP_WINDOWS, 5, 6, RE, NULL),
    G(K_WS2016, KD_GUID(6e9fc069, 257d, 4bc4, b4a7, 750514d32743),
      "Windows Server 2016", SRV, APP_WINDOWS, 5, 6, RE, NULL),
    G(K_WS2012R2, KD_GUID(8456efd3, 0c04, 4089, 8740, 5b7238535a65),
      "Windows Server 2012 R2", SRV, APP_WINDOWS, 5, 6, RE, NULL),
    G(K_WS2012, KD_GUID(8665cb71, 468c, 4aa3, a337, cb9bc9d5eaac),
      "Windows Server 2012", SRV, APP_WINDOWS, 5, 5, RE, NULL),
    G(K_WS2008R2_A, KD_GUID(0fc6ccaf, ff0e, 4fae, 9d08, 4370785bf7ed),
      "Windows Server 2008 R2 A (Web, HPC)", SRV, APP_WINDOWS, 5, 4, RE, NULL),
    G(K_WS2008R2_B, KD_GUID(ca87f5b6, cd46, 40c0, b06d, 8ecd57a4373f),
      "Windows Server 2008 R2 B (Standard, Enterprise)", SRV, APP_WINDOWS, 5,
      4, RE, NULL),
    G(K_WS2008R2_C, KD_GUID(b2ca2689, a9a8, 42d7, 938d, cf8e9f201958),
      "Windows Server 2008 R2 C (Datacenter, Itanium)", SRV, APP_WINDOWS, 5,
      4, RE, NULL),
    G(K_WS2008_A, KD_GUID(33e156e4, b76f, 4a52, 9f91, f641dd95ac48),
      "Windows Server 2008 A", SRV, APP_WINDOWS, 5, 4, RE, NULL),
    G(K_WS2008_B, KD_GUID(8fe53387, 3087, 4447, 8985, f75132215ac9),
      "Windows Server 2008 B", SRV, APP_WINDOWS, 5, 4, RE, NULL),
    G(K_WS2008_C, KD_GUID(8a21fdf3, cbc5, 44eb, 83f3, fe284e6680a7),
      "Windows Server 2008 C", SRV, APP_WINDOWS, 5, 4, RE, NULL),
    G(K_W10_RDSH, KD_GUID(cbdcb1ba, e093, 4c81, a463, 10775291fdf9),
      "Windows 10 ServerRdsh (Enterprise multi-session)", CLI, APP_WINDOWS, 5,
      6, RE, NULL),
    G(K_W10_2015, KD_GUID(58e2134f, 8e11, 4d17, 9cb2, 91069c151148),
      "Windows 10/11 2015 (Volume)", CLI, APP_WINDOWS, 25, 6, RE, NULL),
    G(K_W10_2016, KD_GUID(969fe3c0, a3ec, 491a, 9f25, 423605deb365),
      "Windows 10 2016 (Volume)", CLI, APP_WINDOWS, 25, 6, RE, NULL),
    G(K_W10_2019, KD_GUID(11b15659, e603, 4cf1, 9c1f, f0ec01b81888),
      "Windows 10 2019 (Volume)", CLI, APP_WINDOWS, 25, 6, RE, NULL),
    G(K_W10_RETAIL, KD_GUID(e1c51358, fe3e, 4203, a4a2, 3b6b20c9734e),
      "Windows 10/11 (Retail)", CLI, APP_WINDOWS, 25, 6, RE, NULL),
    G(K_W10_GOV, KD_GUID(7ba0bf23, d0f5, 4072, 91d9, d55af5a481b6),
      "Windows 10/11 China Government", CLI, APP_WINDOWS, 25, 6, RE, NULL),
    G(K_W81_VOL, KD_GUID(cb8fc780, 2c05, 495a, 9710, 85afffc904d7),
      "Windows 8.1 (Volume)", CLI, APP_WINDOWS, 25, 6, RE, NULL),
    G(K_W81_RETAIL, KD_GUID(6d646890, 3606, 461a, 86ab, 598bb84ace82),
      "Windows 8.1 (Retail)", CLI, APP_WINDOWS, 25, 6, RE, NULL),
    G(K_W8_VOL, KD_GUID(3c40b358, 5948, 45af, 923b, 53d21fcc7e79),
      "Windows 8 (Volume)", CLI, APP_WINDOWS, 25, 5, RE, NULL),
    G(K_W8_RETAIL, KD_GUID(bbb97b3b, 8ca4, 4a28, 9717, 89fabd42c4ac),
      "Windows 8 (Retail)", CLI, APP_WINDOWS, 25, 5, RE, NULL),
    G(K_W7, KD_GUID(7fde5219, fbfa, 484a, 82c9, 34d1ad53e856), "Windows 7",
      CLI, APP_WINDOWS, 25, 4, RE, NULL),
    G(K_VISTA, KD_GUID(212a64dc, 43b1, 4d3d, a30c, 2fc69d2095c6),
      "Windows Vista", CLI, APP_WINDOWS, 25, 4, RE, NULL),
    G(K_O2010, KD_GUID(e85af946, 2e25, 47b7, 83e1, bebcebeac611),
      "Office 2010", OFF, APP_OFFICE14, 5, 4, RE, NULL),
    G(K_O2013, KD_GUID(e6a6f1bf, 9d40, 40c3, aa9f, c77ba21578c0),
      "Office 2013", OFF, APP_OFFICE, 5, 5, RE, NULL),
    G(K_O2016, KD_GUID(85b5f61b, 320b, 4be3, 814a, b76b2bfafc82),
      "Office 2016", OFF, APP_OFFICE, 5, 6, RE, NULL),
    G(K_O2019, KD_GUID(617d9eb1, ef36, 4f82, 86e0, a65ae07b96c6),
      "Office 2019", OFF, APP_OFFICE, 5, 6, RE, NULL),
    G(K_O2021, KD_GUID(86d50b16, 4808, 41af, b83b, b338274318b2),
      "Office LTSC 2021", OFF, APP_OFFICE, 5, 6, RE, NULL),
    G(K_O2024, KD_GUID(1b4db7eb, 4057, 5ddf, 91e0, 36dec72071f5),
      "Office LTSC 2024", OFF, APP_OFFICE, 5, 6, UNV, PLACEHOLDER_NOTE),
};
const size_t kd_groups_n = sizeof kd_groups / sizeof kd_groups[0];
_Static_assert(sizeof kd_groups / sizeof kd_groups[0] == K_COUNT_,
               "one row per KMS group index");

/* ---- 4 + 5.3 products (editions) ---------------------------------------- */

#define SKU(a, b, c, d, e) true, KD_GUID(a, b, c, d, e)
#define NOSKU                                                                  \
  false, {                                                                     \
    0, 0, 0, { 0 }                                                             \
  }
#define P(name, fam, app, sku, grp, gvlk, lines, conf, note)                   \
  {name, fam, &kd_apps[app], sku, &kd_groups[grp], gvlk, lines, conf, note}
/* Windows product: the application is always Windows. */
#define W(name, fam, sku, grp, gvlk, lines, conf, note)                        \
  {name, fam, &kd_apps[APP_WINDOWS], sku, &kd_groups[grp], gvlk, lines, conf, \
   note}

#define W1011 (L(WIN10) | L(WIN11))
#define NOTE_WS2025 "KMS counted ID of Windows Server 2025 is a placeholder"
#define NOTE_WS2022 "KMS counted ID of Windows Server 2022 is not authoritative"
#define NOTE_AZCORE                                                            \
  "GVLK only in py-kms, not on Microsoft's page; no SKU ID known; "           \
  "counted ID not authoritative"
#define NOTE_SAC_GROUP                                                         \
  "counted ID assumed from the release line (not stated by a source)"
#define NOTE_NOSKU "no SKU ID in our sources"
#define NOTE_WS2008                                                            \
  "A/B/C counted ID assumed by analogy with 2008 R2 (Web, HPC = A; "          \
  "Standard, Enterprise = B; Datacenter, Itanium = C)"

const kmsdiag_product_t kd_products[] = {
    /* Windows Server (LTSC) */
    W("Windows Server 2025 Standard", SRV,
      SKU(7dc26449, db21, 4e09, ba37, 28f2958506a6), K_WS2025,
      "TVRH6-WHNXV-R9WG3-9XRFY-MY832", L(WS2025), UNV, NOTE_WS2025),
    W("Windows Server 2025 Datacenter", SRV,
      SKU(c052f164, cdf6, 409a, a0cb, 853ba0f0f55a), K_WS2025,
      "D764K-2NDRG-47T6Q-P8T8W-YP6DF", L(WS2025), UNV, NOTE_WS2025),
    W("Windows Server 2025 Datacenter: Azure Edition", SRV,
      SKU(c2e946d1, cfa2, 4523, 8c87, 30bc696ee584), K_WS2025,
      "XGN3F-F394H-FD2MY-PP6FD-8MCRC", L(WS2025), UNV, NOTE_WS2025),
    W("Windows Server 2025 Azure Core", SRV, NOSKU, K_WS2025,
      "QN7G3-4RM92-MT6QR-PR966-FVYV7", L(WS2025), UNV, NOTE_AZCORE),
    W("Windows Server 2022 Standard", SRV,
      SKU(9bd77860, 9b31, 4b7b, 96ad, 2564017315bf), K_WS2022,
      "VDYBN-27WPP-V4HQT-9VMD4-VMK7H", L(WS2022), UNV, NOTE_WS2022),
    W("Windows Server 2022 Datacenter", SRV,
      SKU(ef6cfc9f, 8c5d, 44ac, 9aad, de6a2ea0ae03), K_WS2022,
      "WX4NM-KYWYW-QJJR4-XV3QB-6VM33", L(WS2022), UNV, NOTE_WS2022),
    W("Windows Server 2022 Datacenter: Azure Edition", SRV,
      SKU(19b5e0fb, 4431, 46bc, bac1, 2f1873e4ae73), K_WS2022,
      "NTBV8-9K7Q8-V27C6-M2BTV-KHMXV", L(WS2022), UNV, NOTE_WS2022),
    W("Windows Server 2022 Azure Core", SRV, NOSKU, K_WS2022,
      "6N379-GGTMK-23C6M-XVVTC-CKFRQ", L(WS2022), UNV, NOTE_AZCORE),
    W("Windows Server 2019 Standard", SRV,
      SKU(de32eafd, aaee, 4662, 9444, c1befb41bde2), K_WS2019,
      "N69G4-B89J2-4G8F4-WWYCC-J464C", L(WS2019), RE, NULL),
    W("Windows Server 2019 Datacenter", SRV,
      SKU(34e1ae55, 27f8, 4950, 8877, 7a03be5fb181), K_WS2019,
      "WMDGN-G9PQG-XVVXX-R3X43-63DFG", L(WS2019), RE, NULL),
    W("Windows Server 2019 Essentials", SRV,
      SKU(034d3cbb, 5d4b, 4245, b3f8, f84571314078), K_WS2019,
      "WVDHN-86M7X-466P6-VHXV7-YY726", L(WS2019), RE, NULL),
    W("Windows Server 2016 Standard", SRV,
      SKU(8c1c5410, 9f39, 4805, 8c9d, 63a07706358f), K_WS2016,
      "WC2BQ-8NRM3-FDDYY-2BFGV-KHKQY", L(WS2016), RE, NULL),
    W("Windows Server 2016 Datacenter", SRV,
      SKU(21c56779, b449, 4d20, adfc, eece0e1ad74b), K_WS2016,
      "CB7KF-BWN84-R7R2Y-793K2-8XDDG", L(WS2016), RE, NULL),
    W("Windows Server 2016 Essentials", SRV,
      SKU(2b5a1b0f, a5ab, 4c54, ac2f, a6d94824a283), K_WS2016,
      "JCKRF-N37P4-C2D82-9YXRT-4M63B", L(WS2016), RE, NULL),
    /* Windows Server semi-annual channel */
    W("Windows Server SAC Standard (1809-20H2)", SRV,
      SKU(73e3957c, fc0c, 400d, 9184, 5f7b6f2eb409), K_WS2019,
      "N2KJX-J94YW-TQVFB-DG9YT-724CC", L(WS_SAC), UNV, NOTE_SAC_GROUP),
    W("Windows Server SAC Datacenter (1809-20H2)", SRV,
      SKU(90c362e5, 0da1, 4bfd, b53b, b87d309ade43), K_WS2019,
      "6NMRW-2C8FM-D24W7-TQWMY-CWH2D", L(WS_SAC), UNV, NOTE_SAC_GROUP),
    W("Windows Server 1803 Standard", SRV, NOSKU, K_WS2016,
      "PTXN8-JFHJM-4WC78-MPCBR-9W4KR", L(WS_SAC), UNV, NOTE_SAC_GROUP),
    W("Windows Server 1803 Datacenter", SRV, NOSKU, K_WS2016,
      "2HXDN-KRXHB-GPYC7-YCKFJ-7FVDG", L(WS_SAC), UNV, NOTE_SAC_GROUP),
    W("Windows Server 1709 Standard", SRV, NOSKU, K_WS2016,
      "DPCNP-XQFKJ-BJF7R-FRC8D-GF6G4", L(WS_SAC), UNV, NOTE_SAC_GROUP),
    W("Windows Server 1709 Datacenter", SRV, NOSKU, K_WS2016,
      "6Y6KB-N82V8-D8CQV-23MJW-BWTG6", L(WS_SAC), UNV, NOTE_SAC_GROUP),
    /* Windows Server 2012 R2 / 2012 */
    W("Windows Server 2012 R2 Standard", SRV,
      SKU(b3ca044e, a358, 4d68, 9883, aaa2941aca99), K_WS2012R2,
      "D2N9P-3P6X9-2R39C-7RTCD-MDVJX", L(WS2012R2), RE, NULL),
    W("Windows Server 2012 R2 Datacenter", SRV,
      SKU(00091344, 1ea4, 4f37, b789, 01750ba6988c), K_WS2012R2,
      "W3GGN-FT8W3-Y4M27-J84CP-Q3VJ9", L(WS2012R2), RE, NULL),
    W("Windows Server 2012 R2 Essentials", SRV,
      SKU(21db6ba4, 9a7b, 4a14, 9e29, 64a60c59301d), K_WS2012R2,
      "KNC87-3J2TX-XB4WP-VCPJV-M4FWM", L(WS2012R2), RE, NULL),
    W("Windows Server 2012 Standard", SRV,
      SKU(f0f5ec41, 0d55, 4732, af02, 440a44a3cf0f), K_WS2012,
      "XC9B7-NBPP2-83J2H-RHMBY-92BT4", L(WS2012), RE, NULL),
    W("Windows Server 2012 Datacenter", SRV,
      SKU(d3643d60, 0c42, 412d, a7d6, 52e6635327f6), K_WS2012,
      "48HP8-DN98B-MYWDG-T2DCC-8W83P", L(WS2012), RE, NULL),
    W("Windows Server 2012 Essentials", SRV,
      SKU(8f365ba6, c1b9, 4223, 98fc, 282a0756a3ed), K_WS2012,
      "HTDQM-NBMMG-KGYDT-2DTKT-J2MPV", L(WS2012), RE, NULL),
    W("Windows Server 2012 MultiPoint Standard", SRV, NOSKU, K_WS2012,
      "HM7DN-YVMH3-46JC3-XYTG7-CYQJJ", L(WS2012), UNV,
      NOTE_NOSKU "; counted ID assumed from the release"),
    W("Windows Server 2012 MultiPoint Premium", SRV, NOSKU, K_WS2012,
      "XNH6W-2V9GX-RGJ4K-Y8X6F-QGJ2G", L(WS2012), UNV,
      NOTE_NOSKU "; counted ID assumed from the release"),
    /* Windows Server 2008 R2 (A = Web, HPC; B = Standard, Enterprise;
     * C = Datacenter, Itanium) */
    W("Windows Server 2008 R2 Web", SRV,
      SKU(a78b8bd9, 8017, 4df5, b86a, 09f756affa7c), K_WS2008R2_A,
      "6TPJF-RBVHG-WBW2R-86QPH-6RTM4", L(WS2008R2), RE, NULL),
    W("Windows Server 2008 R2 HPC", SRV,
      SKU(cda18cf3, c196, 46ad, b289, 60c072869994), K_WS2008R2_A,
      "TT8MH-CG224-D3D7Q-498W2-9QCTX", L(WS2008R2), RE, NULL),
    /* SKU ID also in Microsoft's example event 12288/12290 */
    W("Windows Server 2008 R2 Standard", SRV,
      SKU(68531fb9, 5511, 4989, 97be, d11a0f55633f), K_WS2008R2_B,
      "YC6KT-GKW9T-YTKYR-T4X34-R7VHC", L(WS2008R2), RE, NULL),
    W("Windows Server 2008 R2 Enterprise", SRV,
      SKU(620e2b3d, 09e7, 42fd, 802a, 17a13652fe7a), K_WS2008R2_B,
      "489J6-VHDMP-X63PK-3K798-CPX3Y", L(WS2008R2), RE, NULL),
    W("Windows Server 2008 R2 Datacenter", SRV,
      SKU(7482e61b, c589, 4b7f, 8ecc, 46d455ac3b87), K_WS2008R2_C,
      "74YFP-3QFB3-KQT8W-PMXWJ-7M648", L(WS2008R2), RE, NULL),
    W("Windows Server 2008 R2 for Itanium", SRV, NOSKU, K_WS2008R2_C,
      "GT63C-RJFQ3-4GMB6-BRFB9-CB83V", L(WS2008R2), RE, NOTE_NOSKU),
    /* Windows Server 2008 */
    W("Windows Web Server 2008", SRV,
      SKU(ddfa9f7c, f09e, 40b9, 8c1a, be877a9a7f4b), K_WS2008_A,
      "WYR28-R7TFJ-3X2YQ-YCY4H-M249D", L(WS2008), UNV, NOTE_WS2008),
    W("Windows Server 2008 HPC", SRV, NOSKU, K_WS2008_A,
      "RCTX3-KWVHP-BR6TB-RB6DM-6X7HP", L(WS2008), UNV, NOTE_WS2008),
    W("Windows Server 2008 Standard", SRV,
      SKU(ad2542d4, 9154, 4c6d, 8a44, 30f11ee96989), K_WS2008_B,
      "TM24T-X9RMF-VWXK6-X8JC9-BFGM2", L(WS2008), UNV, NOTE_WS2008),
    W("Windows Server 2008 Standard without Hyper-V", SRV, NOSKU, K_WS2008_B,
      "W7VD6-7JFBR-RX26B-YKQ3Y-6FFFJ", L(WS2008), UNV, NOTE_WS2008),
    W("Windows Server 2008 Enterprise", SRV,
      SKU(c1af4d90, d1bc, 44ca, 85d4, 003ba33db3b9), K_WS2008_B,
      "YQGMW-MPWTJ-34KDK-48M3W-X4Q6V", L(WS2008), UNV, NOTE_WS2008),
    W("Windows Server 2008 Enterprise without Hyper-V", SRV, NOSKU,
      K_WS2008_B, "39BXF-X8Q23-P2WWT-38T2F-G3FPG", L(WS2008), UNV,
      NOTE_WS2008),
    W("Windows Server 2008 Datacenter", SRV,
      SKU(68b6e220, cf09, 466b, 92d3, 45cd964b9509), K_WS2008_C,
      "7M67G-PC374-GR742-YH8V4-TCBY3", L(WS2008), UNV, NOTE_WS2008),
    W("Windows Server 2008 Datacenter without Hyper-V", SRV, NOSKU,
      K_WS2008_C, "22XQ2-VRXRG-P8D42-K34TD-G3QQC", L(WS2008), UNV,
      NOTE_WS2008),
    W("Windows Server 2008 for Itanium", SRV, NOSKU, K_WS2008_C,
      "4DWFP-JF3DJ-B7DTH-78FJB-PDRHK", L(WS2008), UNV, NOTE_WS2008),

    /* Windows 11 / 10: one GVLK and one SKU ID for both */
    W("Windows 10/11 Pro", CLI, SKU(2de67392, b7a7, 462a, b1ca, 108dd189f588),
      K_W10_2015, "W269N-WFGWX-YVC9B-4J6C9-T83GX", W1011, RE, NULL),
    W("Windows 10/11 Pro N", CLI,
      SKU(a80b5abf, 76ad, 428b, b05d, a47d2dffeebf), K_W10_2015,
      "MH37W-N47XK-V7XM9-C7227-GCQG9", W1011, RE, NULL),
    W("Windows 10/11 Pro for Workstations", CLI,
      SKU(82bbc092, bc50, 4e16, 8e18, b74fc486aec3), K_W10_2015,
      "NRG8B-VKK3Q-CXVCJ-9G2XF-6Q84J", W1011, RE, NULL),
    W("Windows 10/11 Pro for Workstations N", CLI,
      SKU(4b1571d3, bafb, 4b40, 8087, a961be2caf65), K_W10_2015,
      "9FNHH-K3HBT-3W4TD-6383H-6XYWF", W1011, RE, NULL),
    W("Windows 10/11 Pro Education", CLI,
      SKU(3f1afc82, f8ac, 4f6c, 8005, 1d233e606eee), K_W10_2015,
      "6TP4R-GNPTD-KYYHQ-7B7DP-J447Y", W1011, RE, NULL),
    W("Windows 10/11 Pro Education N", CLI,
      SKU(5300b18c, 2e33, 4dc2, 8291, 47ffcec746dd), K_W10_2015,
      "YVWGF-BXNMC-HTQYQ-CPQ99-66QFC", W1011, RE, NULL),
    W("Windows 10/11 Education", CLI,
      SKU(e0c42288, 980c, 4788, a014, c080d2e1926e), K_W10_2015,
      "NW6C2-QMPVW-D7KKK-3GKT6-VCFB2", W1011, RE, NULL),
    W("Windows 10/11 Education N", CLI,
      SKU(3c102355, d027, 42c6, ad23, 2e7ef8a02585), K_W10_2015,
      "2WH4N-8QGBV-H22JP-CT43Q-MDWWJ", W1011, RE, NULL),
    W("Windows 10/11 Enterprise", CLI,
      SKU(73111121, 5638, 40f6, bc11, f1d7b0d64300), K_W10_2015,
      "NPPR9-FWDCX-D2C8J-H872K-2YT43", W1011, RE, NULL),
    W("Windows 10/11 Enterprise N", CLI,
      SKU(e272e3e2, 732f, 4c65, a8f0, 484747d0d947), K_W10_2015,
      "DPH2V-TTNVB-4X9Q3-TJR4H-KHJW4", W1011, RE, NULL),
    W("Windows 10/11 Enterprise G", CLI,
      SKU(e0b2d383, d112, 413f, 8a80, 97f373a5820c), K_W10_GOV,
      "YYVX9-NTFWV-6MDM3-9PT4T-4M68B", L(WIN_GOV), RE, NULL),
    W("Windows 10/11 Enterprise G N", CLI,
      SKU(e38454fb, 41a4, 4f59, a5dc, 25080e354730), K_W10_GOV,
      "44RPN-FTY23-9VTTB-MP9BX-T84FV", L(WIN_GOV), RE, NULL),
    W("Windows 10/11 Enterprise LTSC 2019/2021/2024", CLI,
      SKU(32d2fab3, e4a8, 42c2, 923b, 4bf4fd13e6ee), K_W10_2019,
      "M7XTQ-FN8P6-TTKYV-9D4CC-J462D",
      L(WIN10_LTSC) | L(WIN11_LTSC2024), RE,
      "Windows 11 LTSC 2024 shares this GVLK; no SKU ID of its own known"),
    W("Windows 10/11 Enterprise N LTSC 2019/2021/2024", CLI,
      SKU(7103a333, b8c8, 49cc, 93ce, d37c09687f92), K_W10_2019,
      "92NFX-8DJQP-P6BBQ-THF9C-7CG2H",
      L(WIN10_LTSC) | L(WIN11_LTSC2024), RE,
      "Windows 11 LTSC 2024 shares this GVLK; no SKU ID of its own known"),
    W("Windows IoT Enterprise LTSC 2021/2024", CLI,
      SKU(59eb965c, 9150, 42b7, a0ec, 22151b9897c5), K_W10_2015,
      "KBN8V-HFGQ4-MGXVD-347P6-PDQGT", L(WIN10_LTSC) | L(WIN11_LTSC2024),
      UNV, "which host keys activate IoT editions is not in our sources; "
           "assumed like Enterprise LTSC"),
    W("Windows 10 Enterprise LTSB 2016", CLI,
      SKU(2d5a5a60, 3040, 48bf, beb0, fcd770c20ce0), K_W10_2016,
      "DCPHK-NFMTC-H88MJ-PFHPY-QJ4BJ", L(WIN10_LTSB2016), RE, NULL),
    W("Windows 10 Enterprise N LTSB 2016", CLI,
      SKU(9f776d83, 7156, 45b2, 8a5c, 359b9c9f22a3), K_W10_2016,
      "QFFDN-GRT3P-VKWWX-X7T3R-8B639", L(WIN10_LTSB2016), RE, NULL),
    W("Windows 10 Enterprise LTSB 2015", CLI,
      SKU(7b51a46c, 0c04, 4e8f, 9af4, 8496cca90d5e), K_W10_2015,
      "WNMTR-4C88C-JK8YV-HQ7T2-76DF9", L(WIN10_LTSB2015), RE, NULL),
    W("Windows 10 Enterprise N LTSB 2015", CLI,
      SKU(87b838b7, 41b6, 4590, 8318, 5797951d8529), K_W10_2015,
      "2F77B-TNFGY-69QQF-B8YKP-D69TJ", L(WIN10_LTSB2015), RE, NULL),
    W("Windows 10/11 Enterprise multi-session", CLI, NOSKU, K_W10_RDSH,
      "CPWHC-NT2C7-VYW78-DHDB2-PG3GK", W1011, UNV,
      "GVLK only in py-kms, not on Microsoft's page; no SKU ID known"),
    W("Windows 11 SE", CLI, NOSKU, K_W10_2015, "37D7F-N49CB-WQR8W-TBJ73-FM8RX",
      L(WIN11), UNV,
      "GVLK only in py-kms, not on Microsoft's page; no SKU ID known; "
      "counted ID and host keys assumed like Windows 11 Pro"),
    /* Windows 8.1 / 8 */
    W("Windows 8.1 Pro", CLI, SKU(c06b6981, d7fd, 4a35, b7b4, 054742b7af67),
      K_W81_VOL, "GCRJD-8NW9H-F2CDX-CCM8D-9D6T9", L(WIN81), RE, NULL),
    W("Windows 8.1 Pro N", CLI, SKU(7476d79f, 8e48, 49b4, ab63, 4d0b813a16e4),
      K_W81_VOL, "HMCNV-VVBFX-7HMBH-CTY9B-B4FXY", L(WIN81), RE, NULL),
    W("Windows 8.1 Enterprise", CLI,
      SKU(81671aaf, 79d1, 4eb1, b004, 8cbbe173afea), K_W81_VOL,
      "MHF9N-XY6XB-WVXMC-BTDCT-MKKG7", L(WIN81), RE, NULL),
    W("Windows 8.1 Enterprise N", CLI,
      SKU(113e705c, fa49, 48a4, beea, 7dd879b46b14), K_W81_VOL,
      "TT4HM-HN7YT-62K67-RGRQJ-JFFXW", L(WIN81), RE, NULL),
    W("Windows 8 Pro", CLI, NOSKU, K_W8_VOL, "NG4HW-VH26C-733KW-K6F98-J8CK4",
      L(WIN8), RE, NOTE_NOSKU),
    W("Windows 8 Pro N", CLI, NOSKU, K_W8_VOL,
      "XCVCF-2NXM9-723PB-MHCB7-2RYQQ", L(WIN8), RE, NOTE_NOSKU),
    W("Windows 8 Enterprise", CLI, NOSKU, K_W8_VOL,
      "32JNW-9KQ84-P47T8-D8GGY-CWCK7", L(WIN8), RE, NOTE_NOSKU),
    W("Windows 8 Enterprise N", CLI, NOSKU, K_W8_VOL,
      "JMNMF-RHW7P-DMY6X-RF3DR-X2BQT", L(WIN8), RE, NOTE_NOSKU),
    /* Windows 7 */
    W("Windows 7 Professional", CLI,
      SKU(b92e9980, b9d5, 4821, 9c94, 140f632f6312), K_W7,
      "FJ82H-XT6CR-J8D7P-XQJJ2-GPDD4", L(WIN7), RE, NULL),
    W("Windows 7 Professional N", CLI,
      SKU(54a09a0d, d57b, 4c10, 8b69, a842d6590ad5), K_W7,
      "MRPKT-YTG23-K7D7T-X2JMM-QY7MG", L(WIN7), RE, NULL),
    W("Windows 7 Professional E", CLI,
      SKU(5a041529, fef8, 4d07, b06f, b59b573b32d2), K_W7,
      "W82YF-2Q76Y-63HXB-FGJG9-GF7QX", L(WIN7), RE, NULL),
    W("Windows 7 Enterprise", CLI,
      SKU(ae2ee509, 1b34, 41c0, acb7, 6d4650168915), K_W7,
      "33PXH-7Y6KF-2VJC9-XBBR8-HVTHH", L(WIN7), RE, NULL),
    W("Windows 7 Enterprise N", CLI,
      SKU(1cb6d605, 11b3, 4e14, bb30, da91c8e3983a), K_W7,
      "YDRBP-3D83W-TY26F-D46B2-XCKRJ", L(WIN7), RE, NULL),
    W("Windows 7 Enterprise E", CLI,
      SKU(46bbed08, 9c7b, 48fc, a614, 95250573f4ea), K_W7,
      "C29WB-22CC8-VJ326-GHFJW-H9DH4", L(WIN7), RE, NULL),
    /* Windows Vista */
    W("Windows Vista Business", CLI,
      SKU(4f3d1606, 3fea, 4c01, be3c, 8d671c401e3b), K_VISTA,
      "YFKBB-PQJJV-G996G-VWGXY-2V3X8", L(VISTA), RE, NULL),
    W("Windows Vista Business N", CLI,
      SKU(2c682dc2, 8b68, 4f63, a165, ae291d4cf138), K_VISTA,
      "HMBQG-8H2RH-C77VX-27R82-VMQBT", L(VISTA), RE, NULL),
    W("Windows Vista Enterprise", CLI,
      SKU(cfd8ff08, c0d7, 452b, 9f60, ef5c70c32094), K_VISTA,
      "VKK3X-68KWM-X2YGT-QR4M6-4BWMV", L(VISTA), RE, NULL),
    W("Windows Vista Enterprise N", CLI,
      SKU(d4f54950, 26f2, 4fb4, ba21, ffab16afcade), K_VISTA,
      "VTC42-BM838-43QHV-84HX6-XJXKV", L(VISTA), RE, NULL),

    /* Office: one row per generation (edition SKU IDs and GVLKs are not in
     * our facts). */
    P("Office 2010 (volume)", OFF, APP_OFFICE14, NOSKU, K_O2010, NULL,
      L(OFFICE2010), RE, "edition SKU IDs and GVLKs not in our sources"),
    P("Office 2013 (volume)", OFF, APP_OFFICE, NOSKU, K_O2013, NULL,
      L(OFFICE2013), RE, "edition SKU IDs and GVLKs not in our sources"),
    P("Office 2016 (volume)", OFF, APP_OFFICE, NOSKU, K_O2016, NULL,
      L(OFFICE2016), RE, "edition SKU IDs and GVLKs not in our sources"),
    P("Office 2019 (volume)", OFF, APP_OFFICE, NOSKU, K_O2019, NULL,
      L(OFFICE2019), RE, "edition SKU IDs and GVLKs not in our sources"),
    P("Office LTSC 2021 (volume)", OFF, APP_OFFICE, NOSKU, K_O2021, NULL,
      L(OFFICE2021), RE, "edition SKU IDs and GVLKs not in our sources"),
    P("Office LTSC 2024 (volume)", OFF, APP_OFFICE, NOSKU, K_O2024, NULL,
      L(OFFICE2024), UNV,
      "KMS counted ID is a placeholder; edition SKU IDs and GVLKs not in our "
      "sources"),
};
const size_t kd_products_n = sizeof kd_products / sizeof kd_products[0];

/* ---- 2.1 + 5.4 CSVLK host key groups ------------------------------------ */

#define SRV_ALL_2019                                                           \
  (L(WS_SAC) | L(WS2019) | L(WS2016) | L(WS2012R2) | L(WS2012) |               \
   L(WS2008R2) | L(WS2008))
#define CLI_W10_ALL                                                            \
  (L(WIN10_LTSB2015) | L(WIN10_LTSB2016) | L(WIN10_LTSC) | L(WIN10) |         \
   L(WIN81) | L(WIN7))
#define RANGE(lo, hi) true, lo, hi
#define NORANGE false, 0, 0

const kmsdiag_csvlk_t kd_csvlks[] = {
    /* The five rows of Microsoft's host key table (S-PLAN) */
    {"Windows Server 2025", 4918, RANGE(30000, 20029999),
     SKU(84e331f6, 4279, 48c4, ab10, b75139181351), {26100, 20348, 17763},
     false,
     L(WS2025) | L(WS2022) | SRV_ALL_2019 | L(WIN11_LTSC2024) | L(WIN11) |
         CLI_W10_ALL,
     MS, "Azure Edition cannot be a KMS host"},
    {"Windows Server 2022", 4573, RANGE(0, 20029999),
     SKU(661f7658, 7035, 4b4c, 9f35, 010682943ec2), {20348, 17763, 14393},
     false, L(WS2022) | SRV_ALL_2019 | L(WIN11) | CLI_W10_ALL, MS,
     "activating Windows Server 2025 clients needs KB5034765 or later on a "
     "Windows Server 2022 host"},
    {"Windows Server 2019", 206, RANGE(551000000, 570999999),
     SKU(2e7a9ad1, a849, 4b56, babe, 17d5a29fe4b4), {17763, 14393, 9600},
     false, SRV_ALL_2019 | CLI_W10_ALL, MS,
     "no Windows 11; a Windows Server 2016 or 2012 R2 host needs an update "
     "(KB5003638 / KB4467695) to serve newer clients"},
    {"Windows Server 2016", 206, RANGE(491000000, 530999999),
     SKU(d6992aac, 29e7, 452a, bf10, bbfb8ccabe59), {14393, 9600, 9200},
     false,
     L(WS_SAC) | L(WS2016) | L(WS2012R2) | L(WS2012) | L(WS2008R2) |
         L(WS2008) | L(WIN10_LTSB2015) | L(WIN10_LTSB2016) | L(WIN10) |
         L(WIN81) | L(WIN7),
     MS, NULL},
    /* "Volume license for Windows 10": installs on Windows 10, 8.1, 7 (a
     * listed 10240 stands for every Windows 10/11 build). */
    {"Windows 10 (2015)", 206, RANGE(390000000, 404999999),
     SKU(0724cb7d, 3437, 4cb7, 93cb, 830375d0079d), {10240, 9600, 7601}, true,
     L(WIN10_LTSB2015) | L(WIN10) | L(WIN81) | L(WIN7), MS,
     "a client-OS KMS host activates Windows client editions only"},
    {"Windows 10 (2016)", 206, RANGE(531000000, 545999999),
     SKU(30a42c86, b7a0, 4a34, 8c90, ff177cb2acb7), {10240, 9600, 7601}, true,
     L(WIN10_LTSB2015) | L(WIN10_LTSB2016) | L(WIN10) | L(WIN81) | L(WIN7),
     UNV,
     "list assumed: the 2015 key's list plus LTSB 2016; key-ID range given "
     "only in millions"},
    {"Windows 10 (2019)", 206, RANGE(256000000, 265999999),
     SKU(90da7373, 1c51, 430b, bf26, c97e9c5cdc31), {10240, 9600, 7601}, true,
     L(WIN10_LTSB2015) | L(WIN10_LTSB2016) | L(WIN10_LTSC) | L(WIN10) |
         L(WIN81) | L(WIN7),
     UNV,
     "list assumed: the 2015 key's list plus LTSB 2016 and LTSC 2019; "
     "key-ID range given only in millions"},
    /* Older server keys: not in Microsoft's current table; lists assumed
     * from each key's era. */
    {"Windows Server 2012 R2 for Windows 10", 206,
     RANGE(405000000, 424999999),
     SKU(20e938bb, df44, 45ee, bde1, 4e4fe7477f37), {9600}, false,
     L(WS2012R2) | L(WS2012) | L(WS2008R2) | L(WS2008) | L(WIN10) |
         L(WIN10_LTSB2015) | L(WIN81) | L(WIN8) | L(WIN7) | L(VISTA),
     UNV,
     "list assumed; the host needs KB3172614 or KB4467695 to serve Windows "
     "10 clients"},
    {"Windows Server 2012 R2", 206, RANGE(271000000, 310999999),
     SKU(dcb88f6f, b090, 405b, 850e, dabcccf3693f), {9600}, false,
     L(WS2012R2) | L(WS2012) | L(WS2008R2) | L(WS2008) | L(WIN81) | L(WIN8) |
         L(WIN7) | L(VISTA),
     UNV, "list assumed from the key's era; no Windows 10 or 11"},
    {"Windows Server 2012", 206, RANGE(152000000, 191999999),
     SKU(7b37c913, 252b, 46be, ad80, b2b5ceade8af), {9200}, false,
     L(WS2012) | L(WS2008R2) | L(WS2008) | L(WIN8) | L(WIN7) | L(VISTA), UNV,
     "list assumed from the key's era"},
    {"Windows 10 China Government", 3858, RANGE(15000000, 999999999),
     SKU(ecc0774a, aed3, 4e1a, b815, 2b31781adfea), {0}, false, L(WIN_GOV),
     UNV, "list assumed: Enterprise G editions"},
    {"Windows Server 2008 R2 (A, B or C)", 168, NORANGE, NOSKU, {7601}, false,
     L(WS2008R2) | L(WS2008) | L(WIN7) | L(VISTA), UNV,
     "list assumed; an A or B key activates only its own channel and below"},
    {"Windows Server 2008 (A, B or C)", 152, NORANGE, NOSKU, {6002}, false,
     L(WS2008) | L(VISTA), UNV, "list assumed"},
    {"Windows 7", 172, RANGE(37000000, 49749999),
     SKU(d188820a, cb63, 4bad, a9a2, 40b843ee23b7), {7601}, true,
     L(WIN7) | L(VISTA), UNV, "list assumed from the key's era"},
    /* Office host keys: key-ID ranges not in our facts */
    {"Office 2010", 96, NORANGE, NOSKU, {0}, false, L(OFFICE2010), UNV,
     "list assumed: its own generation"},
    {"Office 2013", 206, NORANGE, NOSKU, {0}, false, L(OFFICE2013), UNV,
     "list assumed: its own generation"},
    {"Office 2016", 206, NORANGE, NOSKU, {0}, false, L(OFFICE2016), UNV,
     "list assumed: its own generation"},
    {"Office 2019", 206, NORANGE, NOSKU, {0}, false, L(OFFICE2019), UNV,
     "list assumed: its own generation"},
    {"Office LTSC 2021", 206, NORANGE, NOSKU, {0}, false, L(OFFICE2021), UNV,
     "list assumed: its own generation"},
};
const size_t kd_csvlks_n = sizeof kd_csvlks / sizeof kd_csvlks[0];

/* ---- 6 host OS builds and platform IDs ---------------------------------- */

/* Build -> OS and platform ID from the facts (py-kms WinBuilds); the
 * release years are general knowledge, not from the facts. */
const kmsdiag_host_os_t kd_host_os[] = {
    {6002, "Windows Vista SP2 / Windows Server 2008 SP2", "Windows Server 2008",
     55041, 2009, RE},
    {7601, "Windows 7 SP1 / Windows Server 2008 R2 SP1",
     "Windows Server 2008 R2", 55041, 2011, RE},
    {9200, "Windows 8 / Windows Server 2012", "Windows Server 2012", 5426,
     2012, RE},
    {9600, "Windows 8.1 / Windows Server 2012 R2", "Windows Server 2012 R2",
     6401, 2013, RE},
    {10240, "Windows 10 (1507)", NULL, 3612, 2015, RE},
    {14393, "Windows 10 1607 / Windows Server 2016", "Windows Server 2016",
     3612, 2016, RE},
    {17763, "Windows 10 1809 / Windows Server 2019", "Windows Server 2019",
     3612, 2018, RE},
    {20348, "Windows Server 2022", "Windows Server 2022", 3612, 2021, RE},
    {26100, "Windows 11 24H2 / Windows Server 2025", "Windows Server 2025",
     3612, 2024, RE},
};
const size_t kd_host_os_n = sizeof kd_host_os / sizeof kd_host_os[0];

const kd_platform_t kd_platforms[] = {
    {55041, "Windows Vista / 7 / Server 2008 / 2008 R2"},
    {5426, "Windows 8 / Server 2012"},
    {6401, "Windows 8.1 / Server 2012 R2"},
    {3612, "Windows 10 / 11 / Server 2016 and later"},
};
const size_t kd_platforms_n = sizeof kd_platforms / sizeof kd_platforms[0];

/* A short table of common Windows LCIDs (decimal) for display only. */
const kd_lcid_t kd_lcids[] = {
    {1025, "ar-SA"}, {1028, "zh-TW"}, {1029, "cs-CZ"}, {1030, "da-DK"},
    {1031, "de-DE"}, {1032, "el-GR"}, {1033, "en-US"}, {1035, "fi-FI"},
    {1036, "fr-FR"}, {1037, "he-IL"}, {1038, "hu-HU"}, {1040, "it-IT"},
    {1041, "ja-JP"}, {1042, "ko-KR"}, {1043, "nl-NL"}, {1044, "nb-NO"},
    {1045, "pl-PL"}, {1046, "pt-BR"}, {1049, "ru-RU"}, {1051, "sk-SK"},
    {1053, "sv-SE"}, {1055, "tr-TR"}, {1058, "uk-UA"}, {2052, "zh-CN"},
    {2057, "en-GB"}, {2070, "pt-PT"}, {3082, "es-ES"}, {3084, "fr-CA"},
};
const size_t kd_lcids_n = sizeof kd_lcids / sizeof kd_lcids[0];
