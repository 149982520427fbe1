/* fuzz_slmgr.c: the slmgr /dlv reader on arbitrary bytes. Every accessor
 * and the JSON writer run on whatever the parse left behind. */
#include <stdint.h>
#include <string.h>

#include <kmsdiag/kmsdiag.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kmsdiag_slmgr_t *s;
  kmsdiag_json_t *j;
  size_t sum = 0;
  if (kmsdiag_slmgr_new(&s) != KMSDIAG_OK)
    return 0;
  (void)kmsdiag_slmgr_parse(s, data, size);
  sum += strlen(kmsdiag_slmgr_error_text(s));
  for (size_t i = 0; i < kmsdiag_slmgr_product_count(s); i++) {
    const kmsdiag_slmgr_product_t *p = kmsdiag_slmgr_product_at(s, i);
    const char *fields[] = {p->name, p->description, p->channel_text,
                            p->key_channel, p->extended_pid, p->partial_key,
                            p->license_text, p->skms_domain, p->pinned_host,
                            p->dns_host, p->kms_ip, p->kms_epid};
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
      if (fields[k])
        sum += strlen(fields[k]);
  }
  for (size_t i = 0; i < kmsdiag_slmgr_warning_count(s); i++)
    sum += strlen(kmsdiag_slmgr_warning_at(s, i, NULL));
  (void)kmsdiag_slmgr_primary(s);
  if (kmsdiag_json_new(&j) == KMSDIAG_OK) {
    (void)kmsdiag_slmgr_write_json(s, j);
    kmsdiag_json_free(j);
  }
  kmsdiag_slmgr_free(s);
  return (int)(sum & 0);
}
