#include "vmlinux_elf.h"
#include "linux.h"

#include <elf.h>
#include <string.h>
#include <glib/gi18n.h>

#define LOAD_FLOOR   0x100000ULL     /* below 1 MiB live the boot structures */
#define LOAD_CEILING 0x100000000ULL  /* the boot page tables map 4 GiB */

static bool invalid(GError **error, const char *msg)
{
    g_set_error_literal(error, LINUX_ERROR, LINUX_ERROR_INVALID, msg);
    return false;
}

static bool add_segment(struct vmlinux_info *out, const Elf64_Phdr *ph, size_t len, GError **error)
{
    if (out->n_segments == VMLINUX_MAX_SEGMENTS)
        return invalid(error, _("The kernel has too many loadable segments"));
    if (ph->p_offset > len || ph->p_filesz > len - ph->p_offset)
        return invalid(error, _("A kernel segment lies outside the file"));
    if (ph->p_filesz > ph->p_memsz)
        return invalid(error, _("A kernel segment has more file data than memory"));
    if (ph->p_paddr < LOAD_FLOOR || ph->p_paddr >= LOAD_CEILING
        || ph->p_memsz > LOAD_CEILING - ph->p_paddr)
        return invalid(error, _("A kernel segment loads outside 1 MiB to 4 GiB"));
    out->segments[out->n_segments++] = (struct vmlinux_segment){
        .paddr = ph->p_paddr, .offset = ph->p_offset, .filesz = ph->p_filesz, .memsz = ph->p_memsz,
    };
    out->start = MIN(out->start, ph->p_paddr);
    out->end = MAX(out->end, ph->p_paddr + ph->p_memsz);
    return true;
}

bool vmlinux_parse(const uint8_t *elf, size_t len, struct vmlinux_info *out, GError **error)
{
    memset(out, 0, sizeof(*out));
    out->start = UINT64_MAX;

    Elf64_Ehdr eh;
    if (len < sizeof(eh))
        return invalid(error, _("The kernel is too small to be an ELF file"));
    memcpy(&eh, elf, sizeof(eh));
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64
        || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64 || eh.e_type != ET_EXEC)
        return invalid(error, _("The kernel is not a 64-bit x86 ELF executable"));
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len
        || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
        return invalid(error, _("The kernel's program headers lie outside the file"));

    bool entry_ok = false;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, elf + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (!add_segment(out, &ph, len, error))
            return false;
        if ((ph.p_flags & PF_X) && eh.e_entry >= ph.p_paddr && eh.e_entry - ph.p_paddr < ph.p_filesz)
            entry_ok = true;
    }
    if (out->n_segments == 0)
        return invalid(error, _("The kernel has no loadable segments"));
    if (!entry_ok)
        return invalid(error, _("The kernel's entry point is not in an executable segment"));
    out->entry = eh.e_entry;
    return true;
}
