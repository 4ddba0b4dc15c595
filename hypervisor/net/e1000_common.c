/* Descriptor rings, transmit offloads and receive filtering shared by the
 * e1000 (82540EM) and e1000e (82574L) models. */
#include "e1000_common.h"
#include "core/guest_memory.h"
#include "core/state_stream.h"

#include <string.h>
#include <glib/gi18n.h>

#define TXD_CMD_EOP  0x01
#define TXD_CMD_IC   0x04
#define TXD_CMD_VLE  0x40
#define TXD_CMD_DEXT 0x20
#define TXD_CMD_TSE  0x04   /* in extended data descriptors */
#define TXD_POPTS_IXSM 0x01
#define TXD_POPTS_TXSM 0x02
#define TUCMD_IP     0x02
#define TUCMD_TCP    0x01

void e1000_nvm_set_checksum(uint16_t *words)
{
    uint16_t sum = 0;
    for (unsigned i = 0; i < E1000_NVM_CHECKSUM_WORD; i++)
        sum = (uint16_t)(sum + words[i]);
    words[E1000_NVM_CHECKSUM_WORD] = (uint16_t)(E1000_NVM_SUM - sum);
}

void e1000_make_mac(uint8_t mac[6])
{
    uint32_t r = g_random_int();
    mac[0] = 0x52;
    mac[1] = 0x54;
    mac[2] = 0x00;
    mac[3] = (uint8_t)r;
    mac[4] = (uint8_t)(r >> 8);
    mac[5] = (uint8_t)(r >> 16);
}

uint32_t e1000_merge_write(uint32_t old, uint64_t offset, uint64_t value, unsigned size)
{
    if (size >= 4 && !(offset & 3))
        return (uint32_t)value;
    unsigned shift = (offset & 3) * 8;
    uint32_t mask = (size >= 4 ? 0xffffffffu : ((1u << (size * 8)) - 1)) << shift;
    return (old & ~mask) | (((uint32_t)value << shift) & mask);
}

/* ---- PHY ----------------------------------------------------------------------- */

#define PHY_ADDR 1
#define MDIC_OP_WRITE (1u << 26)
#define MDIC_OP_READ  (2u << 26)
#define MDIC_READY    (1u << 28)
#define MDIC_ERROR    (1u << 30)
#define PHY_CTRL_SELF_CLEARING (0x8000 | 0x0200)   /* reset, restart autoneg */

void e1000_phy_reset(uint16_t *phy, uint16_t id1, uint16_t id2)
{
    memset(phy, 0, E1000_PHY_REGS * sizeof(*phy));
    phy[0x00] = 0x1140;     /* autonegotiation on, full duplex, 1000 Mb/s */
    phy[0x01] = 0x796d;     /* link up, autonegotiation complete */
    phy[0x02] = id1;
    phy[0x03] = id2;
    phy[0x04] = 0x0de1;
    phy[0x05] = 0x45e1;     /* link partner ability */
    phy[0x06] = 0x0007;
    phy[0x09] = 0x0e00;
    phy[0x0a] = 0x3c00;     /* partner 1000BASE-T full duplex */
    phy[0x0f] = 0x3000;
    phy[0x10] = 0x0068;
    phy[0x11] = 0xbc00;     /* 1000 Mb/s, full duplex, resolved, link */
}

bool e1000_phy_writable(unsigned r)
{
    return r < E1000_PHY_REGS && r != 0x01 && r != 0x02 && r != 0x03 && r != 0x05 &&
           r != 0x0a && r != 0x0f && r != 0x11;
}

uint16_t e1000_phy_restored(unsigned r, uint16_t v)
{
    /* Reset and restart-autonegotiation complete at once. */
    return r == 0 ? v & ~PHY_CTRL_SELF_CLEARING : v;
}

uint32_t e1000_mdic(uint16_t *phy, uint32_t v)
{
    unsigned addr = (v >> 21) & 0x1f, r = (v >> 16) & 0x1f;
    uint32_t res = v & ~(MDIC_READY | MDIC_ERROR);
    if (addr != PHY_ADDR)
        res |= MDIC_ERROR;
    else if ((v & (3u << 26)) == MDIC_OP_READ)
        res = (res & ~0xffffu) | phy[r];
    else if ((v & (3u << 26)) == MDIC_OP_WRITE && e1000_phy_writable(r))
        phy[r] = e1000_phy_restored(r, (uint16_t)v);
    return res | MDIC_READY;
}

bool e1000_ring_map(struct guest_memory *mem, uint32_t bal, uint32_t bah, uint32_t len,
                    uint32_t head, uint32_t tail, struct e1000_ring *r)
{
    unsigned n = len / E1000_DESC_SIZE;
    if (n == 0 || len % 128 || head >= n || tail >= n)
        return false;
    uint64_t base = (uint64_t)bah << 32 | (bal & ~0xfu);
    r->desc = guest_memory_ptr(mem, base, len);
    r->n = n;
    r->head = head;
    r->tail = tail;
    return r->desc != NULL;
}

/* ---- checksums ----------------------------------------------------------------- */

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static void put_be16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static uint16_t get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Insert the ones-complement checksum of frame[start, end] (end 0 = to the
 * end of the frame) at offset at, adding extra to the sum.  Offsets that do
 * not fit the frame are ignored, as the guest got them wrong. */
static void insert_csum(uint8_t *frame, size_t len, unsigned start, unsigned end,
                        unsigned at, uint32_t extra)
{
    size_t stop = end ? (size_t)end + 1 : len;
    if (stop > len)
        stop = len;
    if (start >= stop || (size_t)at + 2 > len)
        return;
    uint32_t sum = csum_add(extra, frame + start, stop - start);
    put_be16(frame + at, (uint16_t)~csum_fold(sum));
}

/* ---- transmit ------------------------------------------------------------------ */

void e1000_tx_init(struct e1000_tx *t)
{
    memset(t, 0, sizeof(*t));
    t->buf = g_malloc(E1000_MAX_TSO);
}

void e1000_tx_free(struct e1000_tx *t)
{
    g_free(t->buf);
    t->buf = NULL;
}

static void end_frame(struct e1000_tx *t)
{
    t->len = 0;
    t->overflow = false;
    t->tse = false;
    t->legacy_ic = false;
    t->popts = 0;
    t->vle = false;
}

void e1000_tx_reset(struct e1000_tx *t)
{
    memset(&t->ctx, 0, sizeof(t->ctx));
    end_frame(t);
}

/* Send one frame, with the 802.1Q tag after the MAC addresses if asked. */
static void send_checked(const struct e1000_tx *t, uint8_t *frame, size_t len,
                         e1000_send_fn send, void *opaque)
{
    if (len < 12 || len > E1000_MAX_FRAME)
        return;
    if (!t->vle || !t->tpid) {
        send(opaque, frame, len);
        return;
    }
    uint8_t *tagged = g_malloc(len + 4);
    memcpy(tagged, frame, 12);
    put_be16(tagged + 12, t->tpid);
    put_be16(tagged + 14, t->vlan);
    memcpy(tagged + 16, frame + 12, len - 12);
    send(opaque, tagged, len + 4);
    g_free(tagged);
}

static void send_offloaded(struct e1000_tx *t, e1000_send_fn send, void *opaque)
{
    const struct e1000_tx_context *c = &t->ctx;
    uint8_t *frame = t->buf;
    size_t len = t->len;
    if ((t->popts & TXD_POPTS_IXSM) && (size_t)c->ipcso + 2 <= len) {
        frame[c->ipcso] = frame[c->ipcso + 1] = 0;
        insert_csum(frame, len, c->ipcss, c->ipcse, c->ipcso, 0);
    }
    if (t->popts & TXD_POPTS_TXSM)
        insert_csum(frame, len, c->tucss, c->tucse, c->tucso, 0);
    send_checked(t, frame, len, send, opaque);
}

/* TCP segmentation: the header (hdrlen bytes) is repeated before each mss
 * bytes of payload; lengths, IP ID, sequence numbers, flags and checksums
 * are fixed per segment.  The driver seeds the TCP checksum with the
 * pseudo-header sum without the length.  Header offsets that do not fit
 * the header drop the whole send. */
static void send_tso(struct e1000_tx *t, e1000_send_fn send, void *opaque)
{
    const struct e1000_tx_context *c = &t->ctx;
    size_t hdrlen = c->hdrlen, mss = c->mss;
    if (hdrlen == 0 || hdrlen > t->len || mss == 0 || hdrlen + mss > E1000_MAX_FRAME ||
        c->tucss >= hdrlen || (size_t)c->tucso + 2 > hdrlen || c->ipcss + 20u > hdrlen ||
        (size_t)c->ipcso + 2 > hdrlen)
        return;
    bool ipv4 = c->tucmd & TUCMD_IP, tcp = c->tucmd & TUCMD_TCP;
    if (tcp && (size_t)c->tucss + 20 > hdrlen)
        return;
    if (!ipv4 && c->ipcss + 40u > hdrlen)
        return;
    uint8_t *seg = g_malloc(hdrlen + mss);
    const uint8_t *hdr = t->buf;
    uint16_t seed = get_be16(hdr + c->tucso);
    uint16_t ip_id = get_be16(hdr + c->ipcss + 4);
    uint32_t seq = tcp ? (uint32_t)get_be16(hdr + c->tucss + 4) << 16 |
                         get_be16(hdr + c->tucss + 6) : 0;
    uint8_t flags = tcp ? hdr[c->tucss + 13] : 0;
    size_t off = hdrlen;
    unsigned nseg = 0;
    while (off < t->len && nseg < 1024) {
        size_t chunk = MIN(mss, t->len - off);
        bool last = off + chunk >= t->len;
        memcpy(seg, hdr, hdrlen);
        memcpy(seg + hdrlen, t->buf + off, chunk);
        size_t len = hdrlen + chunk;
        if (ipv4) {
            put_be16(seg + c->ipcss + 2, (uint16_t)(len - c->ipcss));
            put_be16(seg + c->ipcss + 4, (uint16_t)(ip_id + nseg));
        } else {
            put_be16(seg + c->ipcss + 4, (uint16_t)(len - c->ipcss - 40));
        }
        if (tcp) {
            uint32_t s = seq + (uint32_t)(off - hdrlen);
            put_be16(seg + c->tucss + 4, (uint16_t)(s >> 16));
            put_be16(seg + c->tucss + 6, (uint16_t)s);
            if (!last)
                seg[c->tucss + 13] = flags & ~0x09;    /* no FIN or PSH before the end */
        } else if ((size_t)c->tucss + 6 <= hdrlen) {
            put_be16(seg + c->tucss + 4, (uint16_t)(len - c->tucss));
        }
        if ((t->popts & TXD_POPTS_IXSM) && ipv4) {
            seg[c->ipcso] = seg[c->ipcso + 1] = 0;
            insert_csum(seg, len, c->ipcss, c->ipcse, c->ipcso, 0);
        }
        if (t->popts & TXD_POPTS_TXSM) {
            put_be16(seg + c->tucso, seed);
            insert_csum(seg, len, c->tucss, 0, c->tucso, (uint32_t)(len - c->tucss));
        }
        send_checked(t, seg, len, send, opaque);
        off += chunk;
        nseg++;
    }
    g_free(seg);
}

static void frame_done(struct e1000_tx *t, e1000_send_fn send, void *opaque)
{
    if (!t->overflow) {
        if (t->tse) {
            send_tso(t, send, opaque);
        } else if (t->legacy_ic) {
            insert_csum(t->buf, t->len, t->legacy_css, 0, t->legacy_cso, 0);
            send_checked(t, t->buf, t->len, send, opaque);
        } else {
            send_offloaded(t, send, opaque);
        }
    }
    end_frame(t);
}

static void gather(struct e1000_tx *t, struct guest_memory *mem, uint64_t addr, size_t len,
                   size_t limit)
{
    if (t->overflow)
        return;
    if (len > limit - t->len) {
        t->overflow = true;     /* an oversize frame is dropped whole */
        return;
    }
    if (len == 0)
        return;
    if (!guest_memory_read(mem, addr, t->buf + t->len, len)) {
        t->overflow = true;     /* outside RAM: drop the frame */
        return;
    }
    t->len += len;
}

void e1000_tx_descriptor(struct e1000_tx *t, struct guest_memory *mem, const uint8_t *d,
                         e1000_send_fn send, void *opaque)
{
    uint64_t addr;
    memcpy(&addr, d, 8);
    addr = GUINT64_FROM_LE(addr);
    uint32_t ctl;
    memcpy(&ctl, d + 8, 4);
    ctl = GUINT32_FROM_LE(ctl);
    uint8_t cmd = (uint8_t)(ctl >> 24);

    if (!(cmd & TXD_CMD_DEXT)) {
        /* Legacy descriptor. */
        if (t->len == 0) {
            t->legacy_ic = cmd & TXD_CMD_IC;
            t->legacy_cso = d[10];
            t->legacy_css = d[13];
            t->vle = cmd & TXD_CMD_VLE;
            t->vlan = (uint16_t)(d[14] | d[15] << 8);
        }
        gather(t, mem, addr, ctl & 0xffff, E1000_MAX_FRAME);
        if (cmd & TXD_CMD_EOP)
            frame_done(t, send, opaque);
    } else if (((ctl >> 20) & 0xf) == 0) {
        /* Context descriptor. */
        struct e1000_tx_context *c = &t->ctx;
        c->ipcss = d[0];
        c->ipcso = d[1];
        c->ipcse = (uint16_t)(d[2] | d[3] << 8);
        c->tucss = d[4];
        c->tucso = d[5];
        c->tucse = (uint16_t)(d[6] | d[7] << 8);
        c->paylen = ctl & 0xfffff;
        c->tucmd = cmd;
        c->hdrlen = d[13];
        c->mss = (uint16_t)(d[14] | d[15] << 8);
    } else if (((ctl >> 20) & 0xf) == 1) {
        /* Data descriptor. */
        if (t->len == 0 && !t->overflow) {
            t->tse = cmd & TXD_CMD_TSE;
            t->popts = d[13];
            t->vle = cmd & TXD_CMD_VLE;
            t->vlan = (uint16_t)(d[14] | d[15] << 8);
        }
        gather(t, mem, addr, ctl & 0xfffff, t->tse ? E1000_MAX_TSO : E1000_MAX_FRAME);
        if (cmd & TXD_CMD_EOP)
            frame_done(t, send, opaque);
    }
    /* Other descriptor types are skipped. */
}

void e1000_tx_save(const struct e1000_tx *t, struct state_out *o)
{
    state_out_bytes(o, &t->ctx, sizeof(t->ctx));
    const uint8_t b[] = { t->tse, t->popts, t->legacy_cso, t->legacy_css,
                          t->legacy_ic, t->overflow };
    state_out_bytes(o, b, sizeof(b));
    state_out_u32(o, (uint32_t)t->len);
    state_out_bytes(o, t->buf, t->len);
    state_out_bool(o, t->vle);
    state_out_u16(o, t->vlan);
}

bool e1000_tx_load(struct e1000_tx *t, struct state_in *in, GError **error)
{
    state_in_bytes(in, &t->ctx, sizeof(t->ctx));
    uint8_t b[6];
    state_in_bytes(in, b, sizeof(b));
    uint32_t len = state_in_u32(in);
    if (len > (b[0] ? E1000_MAX_TSO : E1000_MAX_FRAME))
        return state_in_invalid(in, error, _("a %u-byte frame in the making"), len);
    t->tse = b[0];
    t->popts = b[1];
    t->legacy_cso = b[2];
    t->legacy_css = b[3];
    t->legacy_ic = b[4];
    t->overflow = b[5];
    state_in_bytes(in, t->buf, len);
    t->len = len;
    t->vle = state_in_bool(in);
    t->vlan = state_in_u16(in);
    return true;
}

/* ---- receive ------------------------------------------------------------------- */

static uint32_t crc32_le(const uint8_t *p, size_t len)
{
    uint32_t crc = 0xffffffff;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }
    return ~crc;
}

size_t e1000_rx_buffer_size(uint32_t rctl)
{
    unsigned bs = (rctl >> 16) & 3;
    if (rctl & E1000_RCTL_BSEX)
        return bs == 0 ? 2048 : (size_t)32768 >> bs;
    return (size_t)2048 >> bs;
}

size_t e1000_rx_wire_frame(uint8_t *out, const uint8_t *frame, size_t len, uint32_t rctl)
{
    size_t flen = MAX(len, (size_t)E1000_MIN_FRAME);
    memcpy(out, frame, len);
    memset(out + len, 0, flen - len);
    if (!(rctl & E1000_RCTL_SECRC)) {
        uint32_t crc = crc32_le(out, flen);
        for (unsigned i = 0; i < 4; i++)
            out[flen + i] = (uint8_t)(crc >> (8 * i));
        flen += 4;
    }
    return flen;
}

bool e1000_rx_accept(const uint32_t *regs, const uint8_t *f)
{
    uint32_t rctl = regs[E1000_REG_RCTL / 4];
    if (rctl & E1000_RCTL_UPE)
        return true;
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    if (memcmp(f, bcast, 6) == 0)
        return rctl & E1000_RCTL_BAM;
    if (f[0] & 1) {
        if (rctl & E1000_RCTL_MPE)
            return true;
        static const unsigned shift[4] = { 4, 3, 2, 0 };
        unsigned mo = (rctl >> 12) & 3;
        unsigned h = ((f[4] >> shift[mo]) | (unsigned)f[5] << (8 - shift[mo])) & 0xfff;
        return (regs[E1000_REG_MTA / 4 + (h >> 5)] >> (h & 31)) & 1;
    }
    for (unsigned i = 0; i < 16; i++) {
        uint32_t lo = regs[E1000_REG_RA / 4 + 2 * i], hi = regs[E1000_REG_RA / 4 + 2 * i + 1];
        if (!(hi & (1u << 31)))
            continue;
        uint8_t a[6] = { (uint8_t)lo, (uint8_t)(lo >> 8), (uint8_t)(lo >> 16),
                         (uint8_t)(lo >> 24), (uint8_t)hi, (uint8_t)(hi >> 8) };
        if (memcmp(f, a, 6) == 0)
            return true;
    }
    return false;
}
