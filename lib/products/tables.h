/* tables.h: the product tables of lib/products (tables.c), shared with
 * products.c and epid.c. Private to the module. */
#ifndef KMSDIAG_PRODUCTS_TABLES_H
#define KMSDIAG_PRODUCTS_TABLES_H

#include <stddef.h>

#include <kmsdiag/kmsdiag_products.h>

/* An LCID with its BCP 47 tag. */
typedef struct kd_lcid {
  uint32_t lcid;
  const char *tag;
} kd_lcid_t;

/* An ePID platform ID with the host OS family it stands for. */
typedef struct kd_platform {
  uint32_t id;
  const char *name;
} kd_platform_t;

extern const kmsdiag_app_t kd_apps[];
extern const size_t kd_apps_n;
extern const kmsdiag_kms_group_t kd_groups[];
extern const size_t kd_groups_n;
extern const kmsdiag_product_t kd_products[];
extern const size_t kd_products_n;
extern const kmsdiag_csvlk_t kd_csvlks[];
extern const size_t kd_csvlks_n;
extern const kmsdiag_host_os_t kd_host_os[];
extern const size_t kd_host_os_n;
extern const kd_platform_t kd_platforms[];
extern const size_t kd_platforms_n;
extern const kd_lcid_t kd_lcids[];
extern const size_t kd_lcids_n;
extern const char *const kd_line_names[KMSDIAG_LINE_COUNT_];

/* JSON array of the names of the lines in `m` (products.c). */
void kd_json_lines(kmsdiag_json_t *j, const char *key, kmsdiag_line_mask_t m);

#endif
