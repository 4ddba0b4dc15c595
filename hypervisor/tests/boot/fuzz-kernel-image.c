/* libFuzzer target: arbitrary bytes as a kernel file, both as the kernel
 * proper (ELF) and as a bzImage whose payload is unpacked. */
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "boot/kernel_payload.h"
#include "boot/vmlinux_elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vmlinux_info info;
    if (vmlinux_parse(data, size, &info, NULL)) {
        /* Whatever is accepted lies inside the file and in 1 MiB..4 GiB. */
        for (unsigned i = 0; i < info.n_segments; i++) {
            const struct vmlinux_segment *s = &info.segments[i];
            if (s->offset + s->filesz > size || s->filesz > s->memsz || s->paddr < 0x100000
                || s->paddr + s->memsz > 0x100000000ULL)
                __builtin_trap();
        }
    }
    const uint8_t *payload;
    size_t len;
    if (kernel_payload_find(data, size, &payload, &len, NULL)) {
        if (payload < data || payload + len > data + size)
            __builtin_trap();
        GBytes *out = kernel_payload_decompress(payload, len, NULL);
        if (out)
            g_bytes_unref(out);
    }
    return 0;
}
