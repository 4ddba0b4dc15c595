/* What the Intel 8254x/8257x NIC models share: descriptor rings in guest
 * memory, the transmit path (context and data descriptors, checksum
 * offload, TCP segmentation), the receive address filter, the frame as the
 * wire has it, and the NVM checksum.  Their register layouts agree on
 * everything used here (RCTL, the multicast table, the receive addresses). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

struct guest_memory;
struct state_out;
struct state_in;

#define E1000_DESC_SIZE 16
/* A frame larger than a jumbo frame is never legitimate; a TSO payload is
 * bounded by the IP length field. */
#define E1000_MAX_FRAME 16384
#define E1000_MAX_TSO   (65536 + 256)
#define E1000_MIN_FRAME 60
#define E1000_NVM_CHECKSUM_WORD 0x3f
#define E1000_NVM_SUM 0xbaba

/* Register offsets both models use through these helpers. */
#define E1000_REG_RCTL 0x0100
#define E1000_REG_MTA  0x5200
#define E1000_REG_RA   0x5400   /* 16 pairs of RAL, RAH */

#define E1000_RCTL_EN    (1u << 1)
#define E1000_RCTL_UPE   (1u << 3)
#define E1000_RCTL_MPE   (1u << 4)
#define E1000_RCTL_BAM   (1u << 15)
#define E1000_RCTL_BSEX  (1u << 25)
#define E1000_RCTL_SECRC (1u << 26)

/* Set word 0x3f so that words 0..0x3f add up to 0xbaba. */
void e1000_nvm_set_checksum(uint16_t *words);

/* A locally administered unicast MAC in the 52:54:00 range. */
void e1000_make_mac(uint8_t mac[6]);

/* A 32-bit register after a guest write of size bytes at offset (any
 * alignment inside it): narrow writes merge into the value as stored. */
uint32_t e1000_merge_write(uint32_t old, uint64_t offset, uint64_t value, unsigned size);

/* ---- the PHY behind MDIC ------------------------------------------------------- */

/* A Marvell-style copper PHY at MDIO address 1, always linked at
 * 1000 Mb/s full duplex with autonegotiation complete; the chips differ in
 * the identifier in registers 2 and 3. */
#define E1000_PHY_REGS 32
void e1000_phy_reset(uint16_t *phy, uint16_t id1, uint16_t id2);
/* Whether a guest may change register r (the rest report the PHY's own
 * state). */
bool e1000_phy_writable(unsigned r);
/* A guest write of MDIC: performs the read or write; returns MDIC as it
 * then reads (ready, error for other PHY addresses). */
uint32_t e1000_mdic(uint16_t *phy, uint32_t v);
/* A register value restored from a saved state, as a write would leave it. */
uint16_t e1000_phy_restored(unsigned r, uint16_t v);

/* A descriptor ring as the guest programmed it: base (BAL/BAH, 16-byte
 * aligned), length in bytes (a multiple of 128), head and tail indices.
 * False when any of it is out of range: the caller then leaves the ring
 * alone. */
struct e1000_ring {
    uint8_t *desc;      /* host view of the whole ring */
    unsigned n, head, tail;
};
bool e1000_ring_map(struct guest_memory *mem, uint32_t bal, uint32_t bah, uint32_t len,
                    uint32_t head, uint32_t tail, struct e1000_ring *r);

/* ---- transmit ------------------------------------------------------------------ */

struct e1000_tx_context {
    uint8_t ipcss, ipcso, tucss, tucso;
    uint16_t ipcse, tucse;
    uint32_t paylen;
    uint8_t hdrlen, tucmd;
    uint16_t mss;
};

/* The frame being gathered across descriptors and the offload context. */
struct e1000_tx {
    struct e1000_tx_context ctx;
    uint8_t *buf;               /* E1000_MAX_TSO bytes */
    size_t len;
    bool tse;
    uint8_t popts;
    uint8_t legacy_cso, legacy_css;
    bool legacy_ic;
    bool overflow;              /* the frame is dropped at its end */
    bool vle;                   /* the frame's descriptor asked for a VLAN tag */
    uint16_t vlan;              /* its tag control (priority, VLAN ID) */
    /* Set by the NIC before each ring walk: the tag protocol ID (VET)
     * while CTRL.VME enables tag insertion, else 0. */
    uint16_t tpid;
};

/* Sends one finished frame (len <= E1000_MAX_FRAME). */
typedef void (*e1000_send_fn)(void *opaque, uint8_t *frame, size_t len);

void e1000_tx_init(struct e1000_tx *t);
void e1000_tx_free(struct e1000_tx *t);
void e1000_tx_reset(struct e1000_tx *t);
/* Take one 16-byte descriptor: legacy, context or data.  Buffers are read
 * from mem with their address and length checked; a frame that does not
 * fit or lies outside RAM is dropped whole. */
void e1000_tx_descriptor(struct e1000_tx *t, struct guest_memory *mem, const uint8_t *d,
                         e1000_send_fn send, void *opaque);
void e1000_tx_save(const struct e1000_tx *t, struct state_out *o);
bool e1000_tx_load(struct e1000_tx *t, struct state_in *in, GError **error);

/* ---- receive ------------------------------------------------------------------- */

/* Whether RCTL and the filter registers (regs: the register file as
 * 32-bit words from offset 0) accept a frame with this destination. */
bool e1000_rx_accept(const uint32_t *regs, const uint8_t *frame);
/* The receive buffer size RCTL selects. */
size_t e1000_rx_buffer_size(uint32_t rctl);
/* The frame as the wire had it into out (E1000_MAX_FRAME + 4 bytes):
 * padded to the minimum, with its FCS unless RCTL strips it; returns the
 * length.  len must be at most E1000_MAX_FRAME. */
size_t e1000_rx_wire_frame(uint8_t *out, const uint8_t *frame, size_t len, uint32_t rctl);
