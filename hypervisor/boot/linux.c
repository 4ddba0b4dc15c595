#include "linux.h"
#include "core/vcpu.h"
#include "vmlinux_elf.h"

#include <string.h>
#include <linux/kvm.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

G_DEFINE_QUARK(oriel-linux-boot-error-quark, linux_error)

/* Offsets in the zero page (struct boot_params) and in the setup header
 * it embeds at 0x1f1, from Documentation/x86/boot.rst. */
#define BP_ACPI_RSDP_ADDR   0x070
#define BP_EXT_RAMDISK_IMG  0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES     0x1e8
#define BP_E820_TABLE       0x2d0
#define HDR_START           0x1f1
#define HDR_SETUP_SECTS     0x1f1
#define HDR_VID_MODE        0x1fa
#define HDR_BOOT_FLAG       0x1fe
#define HDR_JUMP_END        0x201   /* the byte after the 2-byte jump at 0x200 */
#define HDR_MAGIC           0x202
#define HDR_VERSION         0x206
#define HDR_TYPE_OF_LOADER  0x210
#define HDR_LOADFLAGS       0x211
#define HDR_CODE32_START    0x214
#define HDR_RAMDISK_IMAGE   0x218
#define HDR_RAMDISK_SIZE    0x21c
#define HDR_HEAP_END_PTR    0x224
#define HDR_CMD_LINE_PTR    0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_XLOADFLAGS      0x236
#define HDR_CMDLINE_SIZE    0x238
#define HDR_INIT_SIZE       0x260
#define HDR_END_MIN         0x264   /* everything up to init_size */

#define LOADFLAG_LOADED_HIGH  0x01
#define LOADFLAG_CAN_USE_HEAP 0x80
#define XLF_KERNEL_64         0x01

/* Guest-physical placement of the boot structures in conventional memory. */
#define GDT_ADDR        0x0500ULL
#define ZERO_PAGE_ADDR  0x7000ULL
#define PML4_ADDR       0x9000ULL
#define PDPT_ADDR       0xa000ULL
#define PD_ADDR         0xb000ULL   /* four pages: 4 GiB of 2 MiB pages */
#define CMDLINE_ADDR    0x20000ULL
#define CMDLINE_MAX     0x10000ULL
#define KERNEL_LOAD     0x100000ULL

#define SEL_CODE 0x10
#define SEL_DATA 0x18
#define SEL_TSS  0x20

static uint16_t rd16(const uint8_t *p, size_t off) { return (uint16_t)(p[off] | p[off + 1] << 8); }
static uint32_t rd32(const uint8_t *p, size_t off) { return rd16(p, off) | (uint32_t)rd16(p, off + 2) << 16; }
static void wr16(uint8_t *p, size_t off, uint16_t v) { p[off] = (uint8_t)v; p[off + 1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, size_t off, uint32_t v) { wr16(p, off, (uint16_t)v); wr16(p, off + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, size_t off, uint64_t v) { wr32(p, off, (uint32_t)v); wr32(p, off + 4, (uint32_t)(v >> 32)); }

static bool fail(GError **error, int code, const char *msg)
{
    g_set_error_literal(error, LINUX_ERROR, code, msg);
    return false;
}

static bool write_page_tables(struct guest_memory *m)
{
    uint8_t *pml4 = guest_memory_ptr(m, PML4_ADDR, 0x1000);
    uint8_t *pdpt = guest_memory_ptr(m, PDPT_ADDR, 0x1000);
    uint8_t *pd = guest_memory_ptr(m, PD_ADDR, 4 * 0x1000);
    if (!pml4 || !pdpt || !pd)
        return false;
    memset(pml4, 0, 0x1000);
    memset(pdpt, 0, 0x1000);
    wr64(pml4, 0, PDPT_ADDR | 3);                       /* present, writable */
    for (unsigned i = 0; i < 4; i++)
        wr64(pdpt, i * 8, (PD_ADDR + i * 0x1000ULL) | 3);
    for (uint64_t i = 0; i < 4 * 512; i++)
        wr64(pd, i * 8, (i << 21) | 0x83);              /* present, writable, 2 MiB */
    return true;
}

static bool write_gdt(struct guest_memory *m)
{
    static const uint64_t gdt[] = {
        0,
        0,
        0x00af9b000000ffffULL, /* 0x10: 64-bit code */
        0x00cf93000000ffffULL, /* 0x18: data */
        0x00808b0000000067ULL, /* 0x20: busy 64-bit TSS */
    };
    return guest_memory_write(m, GDT_ADDR, gdt, sizeof(gdt));
}

/* Copy each segment and clear the rest of its memory: after a reset the
 * old kernel's data is still there. */
static bool load_segments(struct guest_memory *m, const uint8_t *elf, const struct vmlinux_info *info)
{
    for (unsigned i = 0; i < info->n_segments; i++) {
        const struct vmlinux_segment *seg = &info->segments[i];
        uint8_t *dst = guest_memory_ptr(m, seg->paddr, seg->memsz);
        if (!dst)
            return false;
        memcpy(dst, elf + seg->offset, seg->filesz);
        memset(dst + seg->filesz, 0, seg->memsz - seg->filesz);
    }
    return true;
}

bool linux_load(struct guest_memory *m, const struct linux_boot_params *p,
                struct linux_boot_layout *out, GError **error)
{
    const uint8_t *k = p->kernel;
    size_t ksize = p->kernel_size;
    memset(out, 0, sizeof(*out));

    if (!k || ksize < HDR_END_MIN)
        return fail(error, LINUX_ERROR_INVALID, _("The kernel image is too small to be a bzImage"));
    if (rd16(k, HDR_BOOT_FLAG) != 0xaa55 || memcmp(k + HDR_MAGIC, "HdrS", 4) != 0)
        return fail(error, LINUX_ERROR_INVALID,
                    _("The kernel image is not a bzImage (no boot flag or HdrS signature)"));
    uint16_t version = rd16(k, HDR_VERSION);
    out->protocol = version;
    if (version < 0x20a) {
        g_set_error(error, LINUX_ERROR, LINUX_ERROR_UNSUPPORTED,
                    _("The kernel uses boot protocol %u.%02u; 2.10 or later is needed"),
                    version >> 8, version & 0xff);
        return false;
    }
    if (!(k[HDR_LOADFLAGS] & LOADFLAG_LOADED_HIGH))
        return fail(error, LINUX_ERROR_UNSUPPORTED,
                    _("The kernel is a zImage that must load below 1 MiB, which is not supported"));
    if (version < 0x20c || !(rd16(k, HDR_XLOADFLAGS) & XLF_KERNEL_64))
        return fail(error, LINUX_ERROR_UNSUPPORTED,
                    _("The kernel has no 64-bit entry point"));

    unsigned setup_sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
    size_t setup_size = (size_t)(setup_sects + 1) * 512;
    if (setup_size >= ksize)
        return fail(error, LINUX_ERROR_INVALID,
                    _("The kernel image is truncated: its setup code runs past the end of the file"));
    size_t pm_size = ksize - setup_size;

    /* The setup header ends where the jump at 0x200 lands. */
    size_t hdr_end = 0x202 + k[HDR_JUMP_END];
    if (hdr_end > ksize || hdr_end > setup_size || hdr_end < HDR_END_MIN)
        return fail(error, LINUX_ERROR_INVALID, _("The kernel's setup header has an invalid length"));

    uint32_t init_size = rd32(k, HDR_INIT_SIZE);
    uint64_t need = MAX((uint64_t)init_size, (uint64_t)pm_size);
    if (!guest_memory_ptr(m, KERNEL_LOAD, need))
        return fail(error, LINUX_ERROR_NO_ROOM,
                    _("The kernel does not fit in the guest's memory below 3 GiB"));
    struct vmlinux_info proper;
    uint64_t kernel_end = KERNEL_LOAD + need;
    if (p->vmlinux) {
        if (!vmlinux_parse(p->vmlinux, p->vmlinux_size, &proper, error))
            return false;
        for (unsigned i = 0; i < proper.n_segments; i++)
            if (!guest_memory_ptr(m, proper.segments[i].paddr, proper.segments[i].memsz))
                return fail(error, LINUX_ERROR_NO_ROOM,
                            _("The kernel does not fit in the guest's memory below 3 GiB"));
        kernel_end = MAX(kernel_end, proper.end);
    }

    /* Command line: bounded by what the kernel accepts. */
    const char *cmdline = p->cmdline ? p->cmdline : "";
    size_t cmdlen = strlen(cmdline);
    uint32_t cmdline_size = rd32(k, HDR_CMDLINE_SIZE);
    if (cmdlen > cmdline_size || cmdlen >= CMDLINE_MAX) {
        g_set_error(error, LINUX_ERROR, LINUX_ERROR_INVALID,
                    _("The kernel command line is %zu bytes; this kernel accepts at most %u"),
                    cmdlen, MIN(cmdline_size, (uint32_t)CMDLINE_MAX - 1));
        return false;
    }

    /* initrd: as high as the kernel allows, below the PCI hole, above the
     * kernel's working area. */
    uint64_t initrd_addr = 0;
    if (p->initrd && p->initrd_size) {
        uint64_t top = MIN((uint64_t)rd32(k, HDR_INITRD_ADDR_MAX) + 1, m->low_size);
        uint64_t floor = kernel_end;
        if (p->initrd_size > top || ((top - p->initrd_size) & ~0xfffULL) < floor)
            return fail(error, LINUX_ERROR_NO_ROOM,
                        _("The initrd does not fit in guest memory below the kernel's limit"));
        initrd_addr = (top - p->initrd_size) & ~0xfffULL;
        if (!guest_memory_write(m, initrd_addr, p->initrd, p->initrd_size))
            return fail(error, LINUX_ERROR_NO_ROOM, _("The initrd does not fit in guest memory"));
    }

    bool placed = p->vmlinux ? load_segments(m, p->vmlinux, &proper)
                             : guest_memory_write(m, KERNEL_LOAD, k + setup_size, pm_size);
    if (!placed ||
        !guest_memory_write(m, CMDLINE_ADDR, cmdline, cmdlen + 1) ||
        !write_page_tables(m) || !write_gdt(m))
        return fail(error, LINUX_ERROR_NO_ROOM, _("Guest memory is too small for the boot structures"));

    uint8_t *zp = guest_memory_ptr(m, ZERO_PAGE_ADDR, 0x1000);
    if (!zp)
        return fail(error, LINUX_ERROR_NO_ROOM, _("Guest memory is too small for the boot structures"));
    memset(zp, 0, 0x1000);
    memcpy(zp + HDR_START, k + HDR_START, hdr_end - HDR_START);
    wr16(zp, HDR_VID_MODE, 0xffff);
    zp[HDR_TYPE_OF_LOADER] = 0xff;
    zp[HDR_LOADFLAGS] |= LOADFLAG_CAN_USE_HEAP;
    wr16(zp, HDR_HEAP_END_PTR, 0xfe00);
    wr32(zp, HDR_CODE32_START, (uint32_t)KERNEL_LOAD);
    wr32(zp, HDR_CMD_LINE_PTR, (uint32_t)CMDLINE_ADDR);
    wr32(zp, BP_EXT_CMD_LINE_PTR, 0);
    wr32(zp, HDR_RAMDISK_IMAGE, (uint32_t)initrd_addr);
    wr32(zp, BP_EXT_RAMDISK_IMG, (uint32_t)(initrd_addr >> 32));
    wr32(zp, HDR_RAMDISK_SIZE, (uint32_t)p->initrd_size * (initrd_addr != 0));
    wr32(zp, BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)p->initrd_size >> 32) * (initrd_addr != 0));
    wr64(zp, BP_ACPI_RSDP_ADDR, p->acpi_rsdp);

    unsigned n = MIN(p->n_e820, (unsigned)LINUX_E820_MAX);
    zp[BP_E820_ENTRIES] = (uint8_t)n;
    if (n)
        memcpy(zp + BP_E820_TABLE, p->e820, n * sizeof(struct linux_e820));

    out->zero_page = ZERO_PAGE_ADDR;
    out->cmdline = CMDLINE_ADDR;
    out->kernel_load = p->vmlinux ? proper.start : KERNEL_LOAD;
    out->entry64 = p->vmlinux ? proper.entry : KERNEL_LOAD + 0x200;
    out->initrd = initrd_addr;
    out->page_tables = PML4_ADDR;
    out->gdt = GDT_ADDR;
    return true;
}

static void flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type, bool code64)
{
    *s = (struct kvm_segment){
        .base = 0, .limit = 0xffffffff, .selector = selector, .type = type,
        .present = 1, .dpl = 0, .db = code64 ? 0 : 1, .s = 1, .l = code64 ? 1 : 0, .g = 1,
    };
}

bool linux_setup_bsp(struct vcpu *bsp, const struct linux_boot_layout *l, GError **error)
{
    struct kvm_sregs s;
    if (!vcpu_get_sregs(bsp, &s, error))
        return false;
    flat_segment(&s.cs, SEL_CODE, 0xb, true);
    flat_segment(&s.ds, SEL_DATA, 0x3, false);
    s.es = s.fs = s.gs = s.ss = s.ds;
    s.tr = (struct kvm_segment){ .base = 0, .limit = 0x67, .selector = SEL_TSS, .type = 0xb,
                                  .present = 1 };
    s.ldt = (struct kvm_segment){ .type = 0x2, .present = 1, .unusable = 1 };
    s.gdt.base = l->gdt;
    s.gdt.limit = 5 * 8 - 1;
    s.idt.base = 0;
    s.idt.limit = 0;
    s.cr0 = 0x80000033ULL;  /* PG | NE | ET | MP | PE */
    s.cr3 = l->page_tables;
    s.cr4 = 0x20;           /* PAE */
    s.efer = 0x500;         /* LMA | LME */
    if (!vcpu_set_sregs(bsp, &s, error))
        return false;

    struct kvm_regs r = {
        .rflags = 0x2,
        .rip = l->entry64,
        .rsi = l->zero_page,
    };
    return vcpu_set_regs(bsp, &r, error);
}
