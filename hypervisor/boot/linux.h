/* Direct Linux boot: place a bzImage (or its unpacked kernel proper), its
 * initrd and command line in guest RAM as the x86 boot protocol describes
 * (protocol 2.12 or later), build the zero page, and put the boot processor
 * at the 64-bit entry point with an identity map of the low 4 GiB. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "core/guest_memory.h"

struct vcpu;

#define LINUX_ERROR (linux_error_quark())
GQuark linux_error_quark(void);

enum linux_error_code {
    LINUX_ERROR_INVALID,    /* not a bzImage, or inconsistent header */
    LINUX_ERROR_UNSUPPORTED,/* too old a protocol, no 64-bit entry */
    LINUX_ERROR_NO_ROOM,    /* does not fit in guest RAM */
};

/* One e820 entry in the zero page's format. */
struct linux_e820 {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed));

#define LINUX_E820_MAX 128

struct linux_boot_params {
    const uint8_t *kernel;      /* the bzImage file */
    size_t kernel_size;
    /* Optional: its kernel proper, unpacked (kernel_cache.h).  When given,
     * the segments of this ELF image are loaded where they belong and the
     * boot processor starts there, skipping the bzImage's decompressor;
     * the zero page is still built from the bzImage's setup header. */
    const uint8_t *vmlinux;
    size_t vmlinux_size;
    const uint8_t *initrd;      /* NULL: none */
    size_t initrd_size;
    const char *cmdline;        /* NULL: empty */
    const struct linux_e820 *e820;
    unsigned n_e820;
    uint64_t acpi_rsdp;         /* 0: let the kernel search for it */
};

/* Where things ended up, for the vCPU setup and for tests. */
struct linux_boot_layout {
    uint64_t zero_page;
    uint64_t cmdline;
    uint64_t kernel_load;
    uint64_t entry64;
    uint64_t initrd;            /* 0 when none */
    uint64_t page_tables;       /* CR3 */
    uint64_t gdt;
    uint16_t protocol;
};

/* Check the image and write everything into m. */
bool linux_load(struct guest_memory *m, const struct linux_boot_params *p,
                struct linux_boot_layout *out, GError **error);

/* Put the (reset) boot processor at the kernel's 64-bit entry. */
bool linux_setup_bsp(struct vcpu *bsp, const struct linux_boot_layout *l, GError **error);
