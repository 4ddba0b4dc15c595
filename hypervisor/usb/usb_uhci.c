/* UHCI host controller: registers, root ports, the schedule walk and the
 * control pipe staging for the devices behind it. */
#include "usb_uhci.h"
#include "usb_hid_tablet.h"
#include "pci/pci.h"
#include "core/vm.h"
#include "core/state_stream.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

enum {
    R_USBCMD = 0x00, R_USBSTS = 0x02, R_USBINTR = 0x04, R_FRNUM = 0x06,
    R_FLBASEADD = 0x08, R_SOFMOD = 0x0c, R_PORTSC1 = 0x10,
};
#define IO_SIZE 0x20

#define CMD_RS      (1u << 0)
#define CMD_HCRESET (1u << 1)
#define CMD_GRESET  (1u << 2)
#define CMD_EGSM    (1u << 3)

#define STS_USBINT  (1u << 0)
#define STS_ERRINT  (1u << 1)
#define STS_RD      (1u << 2)
#define STS_HSE     (1u << 3)
#define STS_HCPE    (1u << 4)
#define STS_HCH     (1u << 5)

#define INTR_TIMEOUT (1u << 0)
#define INTR_RESUME  (1u << 1)
#define INTR_IOC     (1u << 2)
#define INTR_SP      (1u << 3)

#define PORT_CCS   (1u << 0)
#define PORT_CSC   (1u << 1)
#define PORT_PED   (1u << 2)
#define PORT_PEDC  (1u << 3)
#define PORT_DPLUS (1u << 4)
#define PORT_ONE   (1u << 7)   /* reserved, always reads 1 */
#define PORT_RD    (1u << 6)
#define PORT_PR    (1u << 9)
#define PORT_SUSP  (1u << 12)

#define LINK_T  (1u << 0)
#define LINK_Q  (1u << 1)
#define LINK_VF (1u << 2)

#define TD_ACTIVE  (1u << 23)
#define TD_STALLED (1u << 22)
#define TD_DBERR   (1u << 21)
#define TD_NAK     (1u << 19)
#define TD_TIMEOUT (1u << 18)
#define TD_IOC     (1u << 24)
#define TD_SPD     (1u << 29)

#define PID_SETUP 0x2d
#define PID_IN    0x69
#define PID_OUT   0xe1

/* Schedule elements looked at per frame: far more than any real schedule
 * (Linux uses a few dozen), small enough that a loop costs little. */
#define FRAME_BUDGET 512
#define MAX_QH_SEEN  64
#define TIMER_MS     2
#define MAX_CATCHUP  32

enum td_result { TD_DONE, TD_SHORT, TD_NAKED, TD_FAILED, TD_INACTIVE, TD_HALT };

struct usb_uhci {
    struct pci_device pci;
    struct vm *vm;
    GMutex lock;
    uint16_t cmd, sts, intr, frnum;
    uint32_t flbase;
    uint8_t sofmod;
    uint16_t portsc[UHCI_PORTS];
    struct usb_device *dev[UHCI_PORTS];
    struct usb_hid_tablet *tablet[UHCI_PORTS];
    GSource *timer;
    gint64 last_tick;
    bool ioc_pending, sp_pending, err_pending;
};

static void update_irq(struct usb_uhci *u)
{
    bool level = ((u->sts & STS_USBINT) && (u->intr & (INTR_IOC | INTR_SP))) ||
                 ((u->sts & STS_ERRINT) && (u->intr & INTR_TIMEOUT)) ||
                 ((u->sts & STS_RD) && (u->intr & INTR_RESUME)) ||
                 (u->sts & (STS_HSE | STS_HCPE));
    pci_set_irq(&u->pci, level);
}

/* ---- devices -------------------------------------------------------------- */

static void device_bus_reset(struct usb_device *d)
{
    d->addr = 0;
    d->setup_valid = false;
    d->pending_addr = -1;
    d->data_len = d->data_pos = 0;
    if (d->ops->reset)
        d->ops->reset(d);
}

static struct usb_device *find_device(struct usb_uhci *u, unsigned addr)
{
    for (unsigned p = 0; p < UHCI_PORTS; p++) {
        struct usb_device *d = u->dev[p];
        if (d && (u->portsc[p] & PORT_PED) && !(u->portsc[p] & PORT_SUSP) && d->addr == addr)
            return d;
    }
    return NULL;
}

static bool setup_is_in(const struct usb_device *d)
{
    return d->setup.request_type & USB_DIR_IN;
}

/* Run the request staged on the control pipe (OUT data, if any, gathered). */
static int control_execute(struct usb_device *d)
{
    const struct usb_setup *s = &d->setup;
    if (s->request_type == 0x00 && s->request == USB_REQ_SET_ADDRESS) {
        if (s->value > 127)
            return USB_RET_STALL;
        d->pending_addr = s->value;
        return 0;
    }
    struct usb_setup clamped = *s;
    clamped.length = (uint16_t)MIN(s->length, USB_CONTROL_MAX);
    return d->ops->control(d, &clamped, d->data);
}

/* One packet on endpoint 0.  Returns bytes moved or USB_RET_*. */
static int control_packet(struct usb_device *d, unsigned pid, uint8_t *buf, size_t len)
{
    if (pid == PID_SETUP) {
        if (len != 8)
            return USB_RET_STALL;
        d->setup = (struct usb_setup){
            .request_type = buf[0], .request = buf[1],
            .value = (uint16_t)(buf[2] | buf[3] << 8),
            .index = (uint16_t)(buf[4] | buf[5] << 8),
            .length = (uint16_t)(buf[6] | buf[7] << 8),
        };
        d->setup_valid = true;
        d->data_pos = 0;
        d->data_len = 0;
        d->pending_addr = -1;
        if (setup_is_in(d)) {
            int r = control_execute(d);
            if (r < 0) {
                d->setup_valid = false;     /* the data stage will stall */
                return 8;
            }
            d->data_len = (size_t)MIN(r, MIN(d->setup.length, USB_CONTROL_MAX));
        }
        return 8;
    }
    if (!d->setup_valid)
        return USB_RET_STALL;
    bool in_req = setup_is_in(d);
    if (pid == PID_IN) {
        if (in_req) {
            /* Data stage of an IN request. */
            size_t n = MIN(len, d->data_len - d->data_pos);
            memcpy(buf, d->data + d->data_pos, n);
            d->data_pos += n;
            return (int)n;
        }
        /* Status stage of an OUT or no-data request: run it now. */
        d->data_len = d->data_pos;
        int r = control_execute(d);
        d->setup_valid = false;
        if (r < 0)
            return USB_RET_STALL;
        if (d->pending_addr >= 0)
            d->addr = (uint8_t)d->pending_addr;
        d->pending_addr = -1;
        return 0;
    }
    /* OUT */
    if (in_req) {
        d->setup_valid = false;         /* status stage of an IN request */
        return 0;
    }
    size_t room = MIN((size_t)d->setup.length, (size_t)USB_CONTROL_MAX) - d->data_pos;
    if (len > room)
        return USB_RET_STALL;
    memcpy(d->data + d->data_pos, buf, len);
    d->data_pos += len;
    return (int)len;
}

/* ---- schedule ------------------------------------------------------------- */

static bool read32(struct usb_uhci *u, uint64_t gpa, uint32_t *v)
{
    if (!guest_memory_read(vm_memory(u->vm), gpa, v, 4))
        return false;
    *v = GUINT32_FROM_LE(*v);
    return true;
}

static void write32(struct usb_uhci *u, uint64_t gpa, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    guest_memory_write(vm_memory(u->vm), gpa, &v, 4);
}

static enum td_result process_td(struct usb_uhci *u, uint32_t addr, uint32_t *link)
{
    uint32_t td[4];
    if (!guest_memory_read(vm_memory(u->vm), addr, td, sizeof(td)))
        return TD_HALT;
    for (unsigned i = 0; i < 4; i++)
        td[i] = GUINT32_FROM_LE(td[i]);
    *link = td[0];
    uint32_t ctrl = td[1], token = td[2];
    if (!(ctrl & TD_ACTIVE))
        return TD_INACTIVE;

    unsigned pid = token & 0xff, devaddr = (token >> 8) & 0x7f, ep = (token >> 15) & 0xf;
    unsigned maxlen = ((token >> 21) + 1) & 0x7ff;
    if (maxlen > 0x500 || (pid != PID_SETUP && pid != PID_IN && pid != PID_OUT)) {
        /* Not a valid TD: the controller stops, as the spec says. */
        u->sts |= STS_HCPE;
        return TD_HALT;
    }
    uint32_t status = 0;
    int r;
    struct usb_device *d = find_device(u, devaddr);
    uint8_t *buf = maxlen ? guest_memory_ptr(vm_memory(u->vm), td[3], maxlen) : NULL;
    if (!d) {
        status = TD_TIMEOUT;
        r = USB_RET_STALL;
    } else if (maxlen && !buf) {
        status = TD_DBERR;
        r = USB_RET_STALL;
    } else {
        uint8_t empty[1];
        if (!buf)
            buf = empty;
        if (ep == 0)
            r = control_packet(d, pid, buf, maxlen);
        else if (pid == PID_IN)
            r = d->ops->data_in ? d->ops->data_in(d, ep, buf, maxlen) : USB_RET_STALL;
        else if (pid == PID_OUT)
            r = d->ops->data_out ? d->ops->data_out(d, ep, buf, maxlen) : USB_RET_STALL;
        else
            r = USB_RET_STALL;
        if (r == USB_RET_STALL)
            status = TD_STALLED;
    }

    enum td_result res;
    if (r == USB_RET_NAK) {
        ctrl |= TD_NAK;
        res = TD_NAKED;
    } else if (r < 0) {
        ctrl = (ctrl & ~(TD_ACTIVE | (3u << 27))) | status;
        u->err_pending = true;
        if (ctrl & TD_IOC)
            u->ioc_pending = true;
        res = TD_FAILED;
    } else {
        ctrl = (ctrl & ~(TD_ACTIVE | TD_NAK | 0x7ffu)) | (((unsigned)r - 1) & 0x7ff);
        if (ctrl & TD_IOC)
            u->ioc_pending = true;
        res = TD_DONE;
        if (pid == PID_IN && (unsigned)r < maxlen && (ctrl & TD_SPD)) {
            u->sp_pending = true;
            res = TD_SHORT;
        }
    }
    write32(u, addr + 4, ctrl);
    return res;
}

static void halt(struct usb_uhci *u, uint16_t why);

static uint32_t td_token_of(struct usb_uhci *u, uint32_t link)
{
    uint32_t token = 0;
    read32(u, (uint64_t)(link & ~0xfu) + 8, &token);
    return token;
}

static void process_frame(struct usb_uhci *u)
{
    uint32_t link;
    if (!read32(u, (uint64_t)u->flbase + (u->frnum & 0x3ff) * 4u, &link)) {
        halt(u, STS_HSE);
        return;
    }
    uint32_t seen[MAX_QH_SEEN];
    unsigned nseen = 0;
    unsigned budget = FRAME_BUDGET;
    while (!(link & LINK_T) && budget) {
        budget--;
        uint32_t addr = link & ~0xfu;
        if (!(link & LINK_Q)) {
            uint32_t next;
            if (process_td(u, addr, &next) == TD_HALT) {
                halt(u, u->sts & STS_HCPE ? STS_HCPE : STS_HSE);
                return;
            }
            link = next;
            continue;
        }
        /* A queue head: work down its element list while transfers
         * complete, then go on horizontally.  A queue head seen before in
         * this frame ends the frame (bandwidth reclamation loops). */
        for (unsigned i = 0; i < nseen; i++)
            if (seen[i] == addr)
                return;
        if (nseen < MAX_QH_SEEN)
            seen[nseen++] = addr;
        else
            return;
        uint32_t head, el;
        if (!read32(u, addr, &head) || !read32(u, addr + 4, &el)) {
            halt(u, STS_HSE);
            return;
        }
        while (!(el & LINK_T) && !(el & LINK_Q) && budget) {
            budget--;
            uint32_t next;
            enum td_result r = process_td(u, el & ~0xfu, &next);
            if (r == TD_HALT) {
                halt(u, u->sts & STS_HCPE ? STS_HCPE : STS_HSE);
                return;
            }
            if (r == TD_SHORT && ((td_token_of(u, el) >> 15) & 0xf) != 0) {
                /* A short interrupt or bulk IN ends its transfer: the
                 * queue moves on to the next transfer's first TD (Linux
                 * treats a queue left on the completed TD as a stuck
                 * controller); a short control data stage stays for the
                 * driver to skip to the status stage. */
                write32(u, addr + 4, next);
                break;
            }
            if (r != TD_DONE)
                break;
            el = next;
            write32(u, addr + 4, el);
        }
        link = head;
    }
}

static void end_frame(struct usb_uhci *u)
{
    u->frnum = (u->frnum + 1) & 0x7ff;
    if (u->ioc_pending || u->sp_pending)
        u->sts |= STS_USBINT;
    if (u->err_pending)
        u->sts |= STS_ERRINT;
    u->ioc_pending = u->sp_pending = u->err_pending = false;
    update_irq(u);
}

static void run_frames_locked(struct usb_uhci *u, unsigned n)
{
    for (unsigned i = 0; i < n && (u->cmd & CMD_RS); i++) {
        process_frame(u);
        end_frame(u);
    }
}

void uhci_run_frames(struct usb_uhci *u, unsigned n)
{
    g_mutex_lock(&u->lock);
    run_frames_locked(u, n);
    g_mutex_unlock(&u->lock);
}

static gboolean frame_timer(gpointer opaque)
{
    struct usb_uhci *u = opaque;
    g_mutex_lock(&u->lock);
    gint64 now = g_get_monotonic_time();
    gint64 ms = (now - u->last_tick) / 1000;
    if (ms >= 1) {
        u->last_tick += ms * 1000;
        run_frames_locked(u, (unsigned)MIN(ms, (gint64)MAX_CATCHUP));
    }
    g_mutex_unlock(&u->lock);
    return G_SOURCE_CONTINUE;
}

static void start_timer(struct usb_uhci *u)
{
    if (u->timer)
        return;
    u->last_tick = g_get_monotonic_time();
    u->timer = g_timeout_source_new(TIMER_MS);
    g_source_set_callback(u->timer, frame_timer, u, NULL);
    g_source_attach(u->timer, vm_main_context(u->vm));
}

static void stop_timer(struct usb_uhci *u)
{
    if (!u->timer)
        return;
    g_source_destroy(u->timer);
    g_source_unref(u->timer);
    u->timer = NULL;
}

static void halt(struct usb_uhci *u, uint16_t why)
{
    u->sts |= why | STS_HCH;
    u->cmd &= ~CMD_RS;
    stop_timer(u);
    update_irq(u);
}

/* ---- registers ------------------------------------------------------------ */

static void port_connect_state(struct usb_uhci *u, unsigned p)
{
    u->portsc[p] = u->dev[p] ? (PORT_CCS | PORT_CSC | PORT_DPLUS) : 0;
}

static void controller_reset(struct usb_uhci *u)
{
    stop_timer(u);
    u->cmd = 0;
    u->sts = STS_HCH;
    u->intr = 0;
    u->frnum = 0;
    u->flbase = 0;
    u->sofmod = 0x40;
    u->ioc_pending = u->sp_pending = u->err_pending = false;
    for (unsigned p = 0; p < UHCI_PORTS; p++) {
        port_connect_state(u, p);
        if (u->dev[p])
            device_bus_reset(u->dev[p]);
    }
    update_irq(u);
}

static uint16_t read16(struct usb_uhci *u, unsigned off)
{
    switch (off) {
    case R_USBCMD: return u->cmd;
    case R_USBSTS: return u->sts;
    case R_USBINTR: return u->intr;
    case R_FRNUM: return u->frnum;
    case R_FLBASEADD: return (uint16_t)u->flbase;
    case R_FLBASEADD + 2: return (uint16_t)(u->flbase >> 16);
    case R_SOFMOD: return u->sofmod;
    case R_PORTSC1: case R_PORTSC1 + 2:
        return u->portsc[(off - R_PORTSC1) / 2] | PORT_ONE;
    default: return 0;
    }
}

static void write_cmd(struct usb_uhci *u, uint16_t v)
{
    if (v & (CMD_HCRESET | CMD_GRESET)) {
        controller_reset(u);
        u->cmd = v & CMD_GRESET;    /* global reset holds while set */
        return;
    }
    bool was = u->cmd & CMD_RS;
    u->cmd = v & 0xff;
    if (!was && (v & CMD_RS)) {
        u->sts &= ~STS_HCH;
        start_timer(u);
    } else if (was && !(v & CMD_RS)) {
        u->sts |= STS_HCH;
        stop_timer(u);
    }
}

static void write_port(struct usb_uhci *u, unsigned p, uint16_t v)
{
    uint16_t old = u->portsc[p];
    uint16_t nv = old & ~(PORT_CSC | PORT_PEDC | PORT_PED | PORT_RD | PORT_PR | PORT_SUSP);
    nv |= old & (PORT_CSC | PORT_PEDC) & ~v;            /* write 1 to clear */
    nv |= v & (PORT_RD | PORT_PR | PORT_SUSP);
    if ((v & PORT_PED) && (old & PORT_CCS) && !(v & PORT_PR))
        nv |= PORT_PED;
    if (v & PORT_PR) {
        nv &= ~PORT_PED;
        if (!(old & PORT_PR) && u->dev[p])
            device_bus_reset(u->dev[p]);
    }
    u->portsc[p] = nv;
}

static void write16(struct usb_uhci *u, unsigned off, uint16_t v)
{
    switch (off) {
    case R_USBCMD:
        write_cmd(u, v);
        break;
    case R_USBSTS:
        u->sts &= ~(v & (STS_USBINT | STS_ERRINT | STS_RD | STS_HSE | STS_HCPE));
        break;
    case R_USBINTR:
        u->intr = v & 0xf;
        break;
    case R_FRNUM:
        if (u->sts & STS_HCH)
            u->frnum = v & 0x7ff;
        break;
    case R_FLBASEADD:
        u->flbase = (u->flbase & 0xffff0000u) | (v & 0xf000u);
        break;
    case R_FLBASEADD + 2:
        u->flbase = (u->flbase & 0xffffu) | (uint32_t)v << 16;
        break;
    case R_SOFMOD:
        u->sofmod = (uint8_t)(v & 0x7f);
        break;
    case R_PORTSC1: case R_PORTSC1 + 2:
        write_port(u, (off - R_PORTSC1) / 2, v);
        break;
    }
    update_irq(u);
}

static uint64_t io_read(void *opaque, uint64_t offset, unsigned size)
{
    struct usb_uhci *u = opaque;
    unsigned off = (unsigned)offset;
    if (off >= IO_SIZE)
        return ~0ull;
    g_mutex_lock(&u->lock);
    uint64_t v;
    if (size == 4) {
        v = read16(u, off & ~1u) | (uint32_t)read16(u, (off & ~1u) + 2) << 16;
    } else if (size == 2) {
        v = read16(u, off & ~1u);
    } else {
        v = (read16(u, off & ~1u) >> ((off & 1) * 8)) & 0xff;
    }
    g_mutex_unlock(&u->lock);
    return v;
}

static void io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct usb_uhci *u = opaque;
    unsigned off = (unsigned)offset & ~1u;
    if (offset >= IO_SIZE)
        return;
    g_mutex_lock(&u->lock);
    if (size == 4) {
        write16(u, off, (uint16_t)value);
        write16(u, off + 2, (uint16_t)(value >> 16));
    } else if (size == 2) {
        write16(u, off, (uint16_t)value);
    } else if (off == R_SOFMOD) {
        write16(u, off, (uint16_t)(value & 0xff));
    } else if (!(offset & 1) && off != R_USBSTS && off < R_PORTSC1) {
        /* A byte write to the low half of a plain register. */
        write16(u, off, (uint16_t)((read16(u, off) & 0xff00) | (value & 0xff)));
    }
    g_mutex_unlock(&u->lock);
}

static const struct io_ops uhci_io_ops = { .read = io_read, .write = io_write };

static void platform_reset(void *opaque)
{
    struct usb_uhci *u = opaque;
    pci_device_reset(&u->pci);
    g_mutex_lock(&u->lock);
    controller_reset(u);
    g_mutex_unlock(&u->lock);
}

/* ---- VM state ---------------------------------------------------------------- */

#define PORT_BITS (PORT_CCS | PORT_CSC | PORT_PED | PORT_PEDC | PORT_DPLUS | PORT_RD | \
                   PORT_PR | PORT_SUSP)

/* The controller's view of a device: its address and control pipe. */
static void save_pipe(const struct usb_device *d, struct state_out *o)
{
    state_out_u8(o, d->addr);
    state_out_u8(o, d->setup.request_type);
    state_out_u8(o, d->setup.request);
    state_out_u16(o, d->setup.value);
    state_out_u16(o, d->setup.index);
    state_out_u16(o, d->setup.length);
    state_out_bool(o, d->setup_valid);
    state_out_u16(o, (uint16_t)d->data_len);
    state_out_u16(o, (uint16_t)d->data_pos);
    state_out_u16(o, (uint16_t)(d->pending_addr + 1));
    state_out_bytes(o, d->data, d->data_len);
}

static bool load_pipe(struct usb_device *d, struct state_in *in, GError **error)
{
    uint8_t addr = state_in_u8(in);
    struct usb_setup setup;
    setup.request_type = state_in_u8(in);
    setup.request = state_in_u8(in);
    setup.value = state_in_u16(in);
    setup.index = state_in_u16(in);
    setup.length = state_in_u16(in);
    bool valid = state_in_bool(in);
    size_t len = state_in_u16(in), pos = state_in_u16(in);
    int pending = (int)state_in_u16(in) - 1;
    if (addr > 127 || len > USB_CONTROL_MAX || pos > len || pending > 127)
        return state_in_invalid(in, error, _("USB control pipe"));
    state_in_bytes(in, d->data, len);
    d->addr = addr;
    d->setup = setup;
    d->setup_valid = valid;
    d->data_len = len;
    d->data_pos = pos;
    d->pending_addr = pending;
    return true;
}

static bool uhci_save(struct pci_device *dev, struct state_out *o, GError **error)
{
    struct usb_uhci *u = dev->opaque;
    for (unsigned p = 0; p < UHCI_PORTS; p++) {
        if (u->dev[p] && !u->tablet[p]) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                        _("the USB device on port %u does not support saving yet"), p + 1);
            return false;
        }
    }
    g_mutex_lock(&u->lock);
    state_out_u16(o, u->cmd);
    state_out_u16(o, u->sts);
    state_out_u16(o, u->intr);
    state_out_u16(o, u->frnum);
    state_out_u32(o, u->flbase);
    state_out_u8(o, u->sofmod);
    state_out_bool(o, u->ioc_pending);
    state_out_bool(o, u->sp_pending);
    state_out_bool(o, u->err_pending);
    for (unsigned p = 0; p < UHCI_PORTS; p++) {
        state_out_u16(o, u->portsc[p]);
        state_out_bool(o, u->dev[p] != NULL);
        if (u->dev[p]) {
            save_pipe(u->dev[p], o);
            usb_hid_tablet_save(u->tablet[p], o);
        }
    }
    g_mutex_unlock(&u->lock);
    return true;
}

static bool load_ports(struct usb_uhci *u, struct state_in *in, GError **error)
{
    for (unsigned p = 0; p < UHCI_PORTS; p++) {
        u->portsc[p] = state_in_u16(in) & PORT_BITS;
        bool present = state_in_bool(in);
        if (present != (u->dev[p] != NULL))
            return state_in_invalid(in, error, _("USB port %u: another device was saved"), p + 1);
        if (!present) {
            u->portsc[p] &= (uint16_t)~(PORT_CCS | PORT_PED);
            continue;
        }
        if (!load_pipe(u->dev[p], in, error) || !usb_hid_tablet_load(u->tablet[p], in, error))
            return false;
    }
    return !in->short_read || state_in_invalid(in, error, _("truncated"));
}

static bool uhci_load(struct pci_device *dev, struct state_in *in, uint32_t version,
                      GError **error)
{
    struct usb_uhci *u = dev->opaque;
    g_mutex_lock(&u->lock);
    stop_timer(u);
    u->cmd = state_in_u16(in) & 0xff;
    u->sts = state_in_u16(in) & (STS_USBINT | STS_ERRINT | STS_RD | STS_HSE | STS_HCPE | STS_HCH);
    u->intr = state_in_u16(in) & 0xf;
    u->frnum = state_in_u16(in) & 0x7ff;
    u->flbase = state_in_u32(in) & 0xfffff000u;
    u->sofmod = state_in_u8(in) & 0x7f;
    u->ioc_pending = state_in_bool(in);
    u->sp_pending = state_in_bool(in);
    u->err_pending = state_in_bool(in);
    bool ok = load_ports(u, in, error);
    if (!ok) {
        controller_reset(u);
    } else if (u->cmd & CMD_RS) {
        /* The frame timer runs again from now. */
        u->sts &= (uint16_t)~STS_HCH;
        start_timer(u);
    } else {
        u->sts |= STS_HCH;
    }
    update_irq(u);
    g_mutex_unlock(&u->lock);
    return ok;
}

static const struct pci_state_ops uhci_state_ops = {
    .version = 1, .save = uhci_save, .load = uhci_load,
};

struct usb_uhci *uhci_create(struct vm *vm, struct pci_bus *bus, GError **error)
{
    struct usb_uhci *u = g_new0(struct usb_uhci, 1);
    u->vm = vm;
    g_mutex_init(&u->lock);
    struct pci_device *d = &u->pci;
    pci_device_init(d, "piix3-uhci", 0x8086, 0x7020, 0x0c0300, 0x01, 4);
    d->config[0x60] = 0x10;                 /* serial bus release: USB 1.0 */
    /* LEGSUP: SMI enables (read/write), the PIRQ enable (bit 13), status
     * bits that a write of 1 clears (8-11, 15); 12 and 14 read-only. */
    d->config[0xc1] = 0x20;
    d->wmask[0xc0] = 0xff;
    d->wmask[0xc1] = 0x20;
    d->w1cmask[0xc1] = 0x8f;
    pci_device_set_bar(d, 4, PCI_BAR_IO, false, IO_SIZE, &uhci_io_ops, u);
    d->opaque = u;
    d->state = &uhci_state_ops;
    controller_reset(u);
    if (!pci_register_device_at(bus, d, UHCI_PCI_SLOT, UHCI_PCI_FUNC, error)) {
        g_mutex_clear(&u->lock);
        g_free(u);
        return NULL;
    }
    vm_add_reset_handler(vm, platform_reset, u);
    return u;
}

void uhci_free(struct usb_uhci *u)
{
    if (!u)
        return;
    pci_unregister_device(&u->pci);
    g_mutex_lock(&u->lock);
    stop_timer(u);
    g_mutex_unlock(&u->lock);
    for (unsigned p = 0; p < UHCI_PORTS; p++)
        usb_hid_tablet_free(u->tablet[p]);
    g_mutex_clear(&u->lock);
    g_free(u);
}

/* Remote wakeup from a device: resume detected on its suspended port, and
 * on the controller if the whole bus is suspended (not running). */
static void device_wakeup(struct usb_device *dev)
{
    struct usb_uhci *u = dev->controller;
    g_mutex_lock(&u->lock);
    for (unsigned p = 0; p < UHCI_PORTS; p++) {
        if (u->dev[p] != dev || !(u->portsc[p] & PORT_PED))
            continue;
        bool port_suspended = u->portsc[p] & PORT_SUSP;
        if (port_suspended)
            u->portsc[p] |= PORT_RD;
        if (!(u->cmd & CMD_RS) && (port_suspended || (u->cmd & CMD_EGSM))) {
            u->sts |= STS_RD;
            update_irq(u);
        }
    }
    g_mutex_unlock(&u->lock);
}

bool uhci_attach(struct usb_uhci *u, unsigned port, struct usb_device *dev, GError **error)
{
    if (port >= UHCI_PORTS) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("The USB controller has no port %u"), port + 1);
        return false;
    }
    g_mutex_lock(&u->lock);
    if (u->dev[port]) {
        g_mutex_unlock(&u->lock);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    _("USB port %u is already in use"), port + 1);
        return false;
    }
    u->dev[port] = dev;
    dev->controller = u;
    dev->wakeup = device_wakeup;
    device_bus_reset(dev);
    port_connect_state(u, port);
    g_mutex_unlock(&u->lock);
    return true;
}

void uhci_detach(struct usb_uhci *u, unsigned port)
{
    if (port >= UHCI_PORTS)
        return;
    g_mutex_lock(&u->lock);
    u->dev[port] = NULL;
    u->portsc[port] = (u->portsc[port] & PORT_CCS) ? PORT_CSC | PORT_PEDC : 0;
    g_mutex_unlock(&u->lock);
}

struct usb_hid_tablet *uhci_attach_tablet(struct usb_uhci *u, unsigned port,
                                          struct input_router *router, GError **error)
{
    struct usb_hid_tablet *t = usb_hid_tablet_new(router);
    if (!uhci_attach(u, port, usb_hid_tablet_device(t), error)) {
        usb_hid_tablet_free(t);
        return NULL;
    }
    u->tablet[port] = t;
    return t;
}

struct pci_device *uhci_pci_device(struct usb_uhci *u)
{
    return &u->pci;
}
