/* libFuzzer target: random sequences of fw_cfg port accesses and DMA
 * requests, with descriptors and buffers anywhere in (and beyond) guest
 * RAM.  The sanitizers catch any host memory access outside guest RAM. */
#include <string.h>
#include <glib.h>

#include "devices/fw_cfg.h"
#include "config/pc_layout.h"
#include "tests/support/test_vm.h"

#define RAM (16ULL * 1024 * 1024)

struct input {
    const uint8_t *p;
    size_t n;
};

static uint64_t take(struct input *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && in->n; i++, in->p++, in->n--)
        v |= (uint64_t)*in->p << (8 * i);
    return v;
}

/* Addresses mostly near RAM so that both valid and invalid ranges occur. */
static uint64_t address(struct input *in)
{
    switch (take(in, 1) % 4) {
    case 0:  return take(in, 3);                     /* low RAM */
    case 1:  return RAM - (take(in, 2) % 4096);      /* straddling the end */
    case 2:  return take(in, 8);                     /* anywhere */
    default: return PC_BIOS_AREA_START + take(in, 2);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vm *vm = test_vm_new(RAM);
    struct fw_cfg *fw = fw_cfg_create(vm);
    static const uint8_t blob[200] = { 1, 2, 3 };
    fw_cfg_add_file(fw, "etc/a", blob, sizeof(blob));
    fw_cfg_add_file(fw, "etc/empty", blob, 0);
    fw_cfg_add_bytes(fw, FW_CFG_KERNEL_CMDLINE, "console=ttyS0", 14);
    /* The one writable item and the selection that validates it. */
    fw_cfg_add_smi_features(fw, FW_CFG_SMI_BROADCAST);


    struct input in = { data, size };
    while (in.n) {
        switch (take(&in, 1) % 8) {
        case 0: {
            uint16_t key = (uint16_t)take(&in, 2);
            test_pio_write(vm, PC_FW_CFG_PORT, key, 2);
            break;
        }
        case 1: {
            unsigned n = (unsigned)take(&in, 1) % 64;
            for (unsigned i = 0; i < n; i++)
                test_pio_read(vm, PC_FW_CFG_PORT + 1, 1);
            break;
        }
        case 2: {
            /* A descriptor somewhere, then the kick. */
            uint64_t desc = address(&in);
            uint8_t d[16];
            for (int i = 0; i < 16; i++)
                d[i] = (uint8_t)take(&in, 1);
            /* Keep lengths moderate most of the time: a huge zero-fill of
             * RAM is valid but slow. */
            if (d[4] & 0x80)
                d[4] = d[5] = 0;
            guest_memory_write(vm_memory(vm), desc, d, sizeof(d));
            test_pio_write(vm, PC_FW_CFG_DMA_PORT, GUINT32_SWAP_LE_BE((uint32_t)(desc >> 32)), 4);
            test_pio_write(vm, PC_FW_CFG_DMA_PORT + 4, GUINT32_SWAP_LE_BE((uint32_t)desc), 4);
            break;
        }
        case 3: {
            static const unsigned sizes[] = { 1, 2, 4, 8 };
            uint16_t port = (uint16_t)(PC_FW_CFG_PORT + take(&in, 1) % (FW_CFG_PORT_LEN + 2));
            unsigned sz = sizes[take(&in, 1) % 4];
            test_pio_write(vm, port, take(&in, 8), sz);
            break;
        }
        case 4: {
            uint16_t port = (uint16_t)(PC_FW_CFG_PORT + take(&in, 1) % (FW_CFG_PORT_LEN + 2));
            test_pio_read(vm, port, 1u << (take(&in, 1) % 4));
            break;
        }
        case 5: {
            char name[8];
            g_snprintf(name, sizeof(name), "f/%u", (unsigned)take(&in, 1) % 8);
            size_t len = take(&in, 1);
            fw_cfg_add_file(fw, name, blob, MIN(len, sizeof(blob)));
            break;
        }
        case 6: {
            /* One of the files (the SMI ones among them), maybe through
             * the write channel. */
            uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + take(&in, 1) % 8);
            if (take(&in, 1) & 1)
                key |= FW_CFG_WRITE_CHANNEL;
            test_pio_write(vm, PC_FW_CFG_PORT, key, 2);
            break;
        }
        case 7:
            test_vm_platform_reset(vm);
            break;
        }
    }

    fw_cfg_free(fw);
    test_vm_free(vm);
    return 0;
}
