/* UEFI firmware for domains: QEMU's firmware descriptors (the JSON files
 * of docs/interop/firmware.json that Debian's ovmf installs in
 * /usr/share/qemu/firmware), the choice of one for <os firmware='efi'>,
 * and each domain's own copy of the variable store (NVRAM). */
#pragma once

#include "domain-def.h"

typedef struct {
  char *path;            /* the descriptor file */
  char *code;            /* mapping.executable.filename: read-only flash */
  char *vars;            /* mapping.nvram-template.filename */
  GStrv machines;        /* x86_64 machine globs ("pc-q35-*") */
  gboolean secure_boot;
  gboolean enrolled_keys;
  gboolean requires_smm;
} FirmwareDescriptor;

/* The usable descriptors (UEFI, split flash, raw, x86_64) in `dirs`, in
 * QEMU's order: by file name, a name in an earlier directory hiding the
 * same name in later ones, an empty file hiding it altogether.  Files that
 * do not parse are skipped with a warning.  Never NULL. */
GPtrArray *firmware_descriptors_load (const char *const *dirs);

/* The name firmware descriptors' machine globs are matched against:
 * "pc-q35-oriel" for q35, "pc-i440fx-oriel" for pc or none. */
const char *firmware_canonical_machine (const char *machine);
gboolean firmware_descriptor_supports_machine (const FirmwareDescriptor *fw, const char *machine);

/* Complete def's UEFI boot as libvirt does when a domain is defined:
 * <os firmware='efi'> picks the first descriptor that fits the machine,
 * the <firmware> features, <loader secure> and SMM, and fills in
 * <firmware>, <loader> and <nvram template> (SMM and <loader secure='yes'>
 * when the firmware requires SMM); a pflash <loader> without a template gets the one
 * its descriptor names; a missing NVRAM path becomes
 * nvram_dir/NAME_VARS.fd.  Then checks the files (present, sizes that
 * fit together) and secure boot's needs (Q35, SMM).  Error: libvirt's
 * codes, naming what does not fit. */
gboolean firmware_fill_domain (DomainDef *def, const char *const *dirs, const char *nvram_dir,
                               GError **error);

/* At start: check the loader and template again and create the domain's
 * NVRAM file from the template if it does not exist yet (never replacing
 * an existing one; the copy appears whole or not at all, mode 0600).
 * nvram_dir itself is created with mode 0700 when the file lives there. */
gboolean firmware_nvram_prepare (const DomainDef *def, const char *nvram_dir, GError **error);
