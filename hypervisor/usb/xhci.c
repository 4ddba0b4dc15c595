/* xHCI host controller (eXtensible Host Controller Interface 1.2):
 * registers, root ports, the command, transfer and event rings, device
 * contexts, interrupts and the VM state. */
#include "xhci.h"
#include "usb_hid_tablet.h"
#include "usb_hid_keyboard.h"
#include "pci/pci.h"
#include "pci/msix.h"
#include "core/vm.h"
#include "core/state_stream.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

/* ---- register layout (BAR 0) ---------------------------------------------- */

#define BAR_SIZE    0x4000
#define CAP_LEN     0x40
#define OP_BASE     CAP_LEN
#define PORT_BASE   (OP_BASE + 0x400)
#define XECP_BASE   0x500
#define RT_BASE     0x1000
#define DB_BASE     0x2000
#define MSIX_BAR    2

#define ERST_MAX_LOG2 4
#define ERST_MAX    (1u << ERST_MAX_LOG2)

/* Operational registers, from OP_BASE. */
enum {
    OP_USBCMD = 0x00, OP_USBSTS = 0x04, OP_PAGESIZE = 0x08, OP_DNCTRL = 0x14,
    OP_CRCR = 0x18, OP_CRCR_HI = 0x1c, OP_DCBAAP = 0x30, OP_DCBAAP_HI = 0x34,
    OP_CONFIG = 0x38,
};

#define CMD_RS      (1u << 0)
#define CMD_HCRST   (1u << 1)
#define CMD_INTE    (1u << 2)
#define CMD_HSEE    (1u << 3)
#define CMD_LHCRST  (1u << 7)
#define CMD_CSS     (1u << 8)
#define CMD_CRS     (1u << 9)
#define CMD_EWE     (1u << 10)
#define CMD_EU3S    (1u << 11)
#define CMD_MASK    (CMD_RS | CMD_INTE | CMD_HSEE | CMD_EWE | CMD_EU3S)

#define STS_HCH     (1u << 0)
#define STS_HSE     (1u << 2)
#define STS_EINT    (1u << 3)
#define STS_PCD     (1u << 4)
#define STS_SRE     (1u << 10)
#define STS_HCE     (1u << 12)
#define STS_W1C     (STS_HSE | STS_EINT | STS_PCD | STS_SRE)

#define CRCR_RCS    (1u << 0)
#define CRCR_CS     (1u << 1)
#define CRCR_CA     (1u << 2)
#define CRCR_CRR    (1u << 3)

/* PORTSC */
#define PORT_CCS    (1u << 0)
#define PORT_PED    (1u << 1)
#define PORT_PR     (1u << 4)
#define PORT_PLS_SHIFT 5
#define PORT_PLS    (0xfu << PORT_PLS_SHIFT)
#define PORT_PP     (1u << 9)
#define PORT_SPEED_SHIFT 10
#define PORT_PIC    (3u << 14)
#define PORT_LWS    (1u << 16)
#define PORT_CSC    (1u << 17)
#define PORT_PEC    (1u << 18)
#define PORT_WRC    (1u << 19)
#define PORT_OCC    (1u << 20)
#define PORT_PRC    (1u << 21)
#define PORT_PLC    (1u << 22)
#define PORT_CEC    (1u << 23)
#define PORT_WAKE   (7u << 25)      /* WCE, WDE, WOE */
#define PORT_WPR    (1u << 31)
#define PORT_CHANGE (PORT_CSC | PORT_PEC | PORT_WRC | PORT_OCC | PORT_PRC | PORT_PLC | PORT_CEC)

#define PLS_U0      0
#define PLS_U3      3
#define PLS_RXDETECT 5
#define PLS_POLLING 7
#define PLS_RESUME  15

#define SPEED_FULL  1
#define SPEED_HIGH  3

/* MSI capability (one vector, 64-bit addresses), the fallback for guests
 * that do not use MSI-X. */
#define PCI_CAP_ID_MSI 0x05
#define MSI_CTRL    2
#define MSI_ADDR    4
#define MSI_ADDR_HI 8
#define MSI_DATA    12
#define MSI_CTRL_ENABLE 0x0001
#define MSI_CTRL_64BIT  0x0080

/* Interrupter 0 registers, from RT_BASE + 0x20. */
#define IMAN_IP     (1u << 0)
#define IMAN_IE     (1u << 1)
#define ERDP_EHB    (1u << 3)

/* TRBs */
#define TRB_C       (1u << 0)
#define TRB_TC      (1u << 1)       /* Link: toggle cycle */
#define TRB_ENT     (1u << 1)
#define TRB_ISP     (1u << 2)
#define TRB_CH      (1u << 4)
#define TRB_IOC     (1u << 5)
#define TRB_IDT     (1u << 6)
#define TRB_BSR     (1u << 9)       /* Address Device: block SET_ADDRESS */
#define TRB_DC      (1u << 9)       /* Configure Endpoint: deconfigure */
#define TRB_DIR_IN  (1u << 16)      /* Data Stage */
#define TRB_TYPE(c) (((c) >> 10) & 0x3f)
#define TRB_SLOT(c) (((c) >> 24) & 0xff)
#define TRB_EP(c)   (((c) >> 16) & 0x1f)
#define TRB_LEN(s)  ((s) & 0x1ffff)

enum {
    TRB_NORMAL = 1, TRB_SETUP = 2, TRB_DATA = 3, TRB_STATUS = 4, TRB_ISOCH = 5,
    TRB_LINK = 6, TRB_EVENT_DATA = 7, TRB_NOOP = 8,
    CMD_ENABLE_SLOT = 9, CMD_DISABLE_SLOT = 10, CMD_ADDRESS_DEVICE = 11,
    CMD_CONFIGURE_EP = 12, CMD_EVALUATE_CTX = 13, CMD_RESET_EP = 14, CMD_STOP_EP = 15,
    CMD_SET_TR_DEQ = 16, CMD_RESET_DEVICE = 17, CMD_NOOP = 23,
    EV_TRANSFER = 32, EV_CMD_COMPLETE = 33, EV_PORT_STATUS = 34, EV_HOST_CONTROLLER = 37,
};

enum {
    CC_SUCCESS = 1, CC_DATA_BUFFER = 2, CC_TRANSACTION = 4, CC_TRB = 5, CC_STALL = 6,
    CC_NO_SLOTS = 9, CC_SLOT_NOT_ENABLED = 11, CC_EP_NOT_ENABLED = 12, CC_SHORT_PACKET = 13,
    CC_PARAMETER = 17, CC_CONTEXT_STATE = 19, CC_EVENT_RING_FULL = 21,
    CC_CMD_RING_STOPPED = 24,
};

/* Slot and endpoint context states. */
enum { SLOT_ENABLED = 0, SLOT_DEFAULT = 1, SLOT_ADDRESSED = 2, SLOT_CONFIGURED = 3 };
enum { EP_DISABLED = 0, EP_RUNNING = 1, EP_HALTED = 2, EP_STOPPED = 3, EP_ERROR = 4 };
enum { EPT_CONTROL = 4 };

#define CTX_SIZE    32
#define MAX_DCI     31

/* Budgets: TRBs handled per doorbell or device notification, Link TRBs
 * followed in a row, TRBs in one TD, bytes of one non-control packet. */
#define RING_BUDGET 1024
#define LINK_BUDGET 32
#define TD_MAX_TRBS 64
#define PACKET_MAX  1024
#define ERST_SEG_MIN 16
#define ERST_SEG_MAX 4096

struct trb {
    uint64_t param;
    uint32_t status;
    uint32_t control;
};

struct xhci_ep {
    uint8_t state;
    uint8_t type;               /* context EP Type, 4 = control */
    uint16_t max_packet;
    uint64_t dequeue;
    bool ccs;
};

struct xhci_slot {
    bool enabled;
    uint8_t state;
    uint8_t port;               /* 1-based root port, 0 = none yet */
    uint64_t ctx;               /* output device context */
    struct xhci_ep ep[MAX_DCI + 1];     /* by DCI; 0 unused */
};

struct erst_seg {
    uint64_t base;
    uint32_t size;
};

struct xhci {
    struct pci_device pci;
    struct pci_msix msix;
    uint8_t msi;                /* offset of the MSI capability */
    struct vm *vm;
    GMutex lock;

    uint32_t usbcmd, usbsts, dnctrl, config;
    uint64_t dcbaap;
    /* Command ring */
    uint64_t cmd_dequeue;
    bool cmd_ccs, crr;
    /* Interrupter 0 */
    uint32_t iman, imod, erstsz;
    uint64_t erstba, erdp;
    struct erst_seg seg[ERST_MAX];
    bool erst_valid;
    unsigned ev_seg, ev_idx;
    bool ev_pcs;
    bool ev_full;               /* Event Ring Full posted; wait for ERDP to move */
    uint64_t ev_full_erdp;      /* where it was then */
    bool intr_pending;
    gint64 run_start;           /* MFINDEX origin */

    uint32_t portsc[XHCI_PORTS];
    uint32_t portpmsc[XHCI_PORTS];
    struct usb_device *dev[XHCI_PORTS];
    struct usb_hid_tablet *tablet[XHCI_PORTS];
    struct usb_hid_keyboard *keyboard[XHCI_PORTS];

    struct xhci_slot slot[XHCI_SLOTS + 1];      /* by slot id; 0 unused */
};

static bool port_is_usb3(unsigned p) { return p >= XHCI_PORTS_USB2; }

/* ---- guest memory ------------------------------------------------------------ */

static bool read_trb(struct xhci *x, uint64_t gpa, struct trb *t)
{
    uint32_t w[4];
    if (!guest_memory_read(vm_memory(x->vm), gpa, w, sizeof(w)))
        return false;
    t->param = GUINT32_FROM_LE(w[0]) | (uint64_t)GUINT32_FROM_LE(w[1]) << 32;
    t->status = GUINT32_FROM_LE(w[2]);
    t->control = GUINT32_FROM_LE(w[3]);
    return true;
}

static bool read_ctx(struct xhci *x, uint64_t gpa, uint32_t ctx[8])
{
    if (!guest_memory_read(vm_memory(x->vm), gpa, ctx, CTX_SIZE))
        return false;
    for (unsigned i = 0; i < 8; i++)
        ctx[i] = GUINT32_FROM_LE(ctx[i]);
    return true;
}

static bool write_ctx(struct xhci *x, uint64_t gpa, const uint32_t ctx[8])
{
    uint32_t le[8];
    for (unsigned i = 0; i < 8; i++)
        le[i] = GUINT32_TO_LE(ctx[i]);
    return guest_memory_write(vm_memory(x->vm), gpa, le, CTX_SIZE);
}

/* ---- interrupts and the event ring ------------------------------------------- */

static bool msi_enabled(struct xhci *x)
{
    return pci_get_word(&x->pci.config[x->msi + MSI_CTRL]) & MSI_CTRL_ENABLE;
}

static void update_intx(struct xhci *x)
{
    bool level = !pci_msix_enabled(&x->msix) && !msi_enabled(x) && (x->iman & IMAN_IP) &&
                 (x->iman & IMAN_IE) && (x->usbcmd & CMD_INTE);
    pci_set_irq(&x->pci, level);
}

/* The message for an interrupt that just became due: MSI-X vector 0, or
 * the MSI message (INTx is a level, update_intx()). */
static void send_message(struct xhci *x)
{
    if (pci_msix_enabled(&x->msix)) {
        pci_msix_notify(&x->msix, 0);
    } else if (msi_enabled(x) &&
               (pci_get_word(&x->pci.config[PCI_COMMAND]) & PCI_COMMAND_MASTER)) {
        const uint8_t *c = x->pci.config + x->msi;
        uint64_t addr = pci_get_long(c + MSI_ADDR) | (uint64_t)pci_get_long(c + MSI_ADDR_HI) << 32;
        vm_signal_msi(x->vm, addr, pci_get_word(c + MSI_DATA));
    }
}

/* Assert the interrupter for pending events unless the driver is still
 * handling the last ones (EHB). */
static void raise_interrupt(struct xhci *x)
{
    if (!x->intr_pending || (x->erdp & ERDP_EHB))
        return;
    x->intr_pending = false;
    x->erdp |= ERDP_EHB;
    x->iman |= IMAN_IP;
    x->usbsts |= STS_EINT;
    if ((x->iman & IMAN_IE) && (x->usbcmd & CMD_INTE))
        send_message(x);
    update_intx(x);
}

static uint64_t ev_enqueue_addr(struct xhci *x)
{
    return x->seg[x->ev_seg].base + (uint64_t)x->ev_idx * 16;
}

/* The address n TRBs after the enqueue pointer. */
static uint64_t ev_slot_after(struct xhci *x, unsigned n)
{
    unsigned seg = x->ev_seg, idx = x->ev_idx;
    while (n--) {
        if (++idx >= x->seg[seg].size) {
            idx = 0;
            seg = seg + 1 >= x->erstsz ? 0 : seg + 1;
        }
    }
    return x->seg[seg].base + (uint64_t)idx * 16;
}

static void ev_advance(struct xhci *x)
{
    if (++x->ev_idx < x->seg[x->ev_seg].size)
        return;
    x->ev_idx = 0;
    if (++x->ev_seg >= x->erstsz) {
        x->ev_seg = 0;
        x->ev_pcs = !x->ev_pcs;
    }
}

static void host_error(struct xhci *x)
{
    x->usbsts |= STS_HCE;
}

static void write_event(struct xhci *x, uint64_t param, uint32_t status, uint32_t control)
{
    uint32_t w[4] = {
        GUINT32_TO_LE((uint32_t)param), GUINT32_TO_LE((uint32_t)(param >> 32)),
        GUINT32_TO_LE(status), GUINT32_TO_LE((control & ~TRB_C) | (x->ev_pcs ? TRB_C : 0)),
    };
    /* The cycle bit goes last so the driver never sees half an event. */
    uint64_t gpa = ev_enqueue_addr(x);
    if (!guest_memory_write(vm_memory(x->vm), gpa, w, 12) ||
        !guest_memory_write(vm_memory(x->vm), gpa + 12, &w[3], 4)) {
        host_error(x);
        return;
    }
    ev_advance(x);
}

static void post_event(struct xhci *x, uint64_t param, uint32_t status, uint32_t control)
{
    if (!x->erst_valid || x->erstsz == 0) {
        host_error(x);
        return;
    }
    if (x->ev_full)
        return;                 /* dropped until the driver makes room */
    /* One slot stays free, so that a full ring and an empty one differ;
     * the last usable slot takes the Event Ring Full event. */
    uint64_t deq = x->erdp & ~0xfull;
    if (ev_slot_after(x, 1) == deq)
        return;
    if (ev_slot_after(x, 2) == deq) {
        write_event(x, 0, (uint32_t)CC_EVENT_RING_FULL << 24, EV_HOST_CONTROLLER << 10);
        x->ev_full = true;
        x->ev_full_erdp = deq;
    } else {
        write_event(x, param, status, control);
    }
    x->intr_pending = true;
    raise_interrupt(x);
}

static void transfer_event(struct xhci *x, unsigned slot, unsigned dci, uint64_t trb,
                           unsigned cc, uint32_t len, bool event_data)
{
    post_event(x, trb, (uint32_t)cc << 24 | (len & 0xffffff),
               (uint32_t)EV_TRANSFER << 10 | (event_data ? 1u << 2 : 0) | dci << 16 | slot << 24);
}

static bool load_erst(struct xhci *x)
{
    x->erst_valid = false;
    x->ev_seg = x->ev_idx = 0;
    x->ev_pcs = true;
    x->ev_full = false;
    if (x->erstsz == 0 || x->erstsz > ERST_MAX)
        return false;
    for (unsigned i = 0; i < x->erstsz; i++) {
        struct trb e;
        if (!read_trb(x, x->erstba + i * 16ull, &e))
            return false;
        uint64_t base = e.param & ~0x3full;
        uint32_t size = e.status & 0xffff;
        if (size < ERST_SEG_MIN || size > ERST_SEG_MAX ||
            !guest_memory_ptr(vm_memory(x->vm), base, (uint64_t)size * 16))
            return false;
        x->seg[i] = (struct erst_seg){ base, size };
    }
    x->erst_valid = true;
    return true;
}

/* ---- ports -------------------------------------------------------------------- */

static void port_event(struct xhci *x, unsigned p)
{
    x->usbsts |= STS_PCD;
    if (x->usbcmd & CMD_RS)
        post_event(x, (uint64_t)(p + 1) << 24, (uint32_t)CC_SUCCESS << 24, EV_PORT_STATUS << 10);
}

static void port_set_change(struct xhci *x, unsigned p, uint32_t bits)
{
    bool had = x->portsc[p] & PORT_CHANGE;
    x->portsc[p] |= bits;
    if (!had)
        port_event(x, p);
}

static void device_bus_reset(struct usb_device *d)
{
    d->addr = 0;
    d->setup_valid = false;
    d->pending_addr = -1;
    d->data_len = d->data_pos = 0;
    if (d->ops->reset)
        d->ops->reset(d);
}

/* The port as found after a controller reset or attach: powered, and for
 * a device, connected but not yet enabled (USB 2 needs a port reset). */
static void port_init(struct xhci *x, unsigned p)
{
    x->portpmsc[p] = 0;
    if (x->dev[p])
        x->portsc[p] = PORT_PP | PORT_CCS | PORT_CSC | PLS_POLLING << PORT_PLS_SHIFT |
                       (uint32_t)SPEED_FULL << PORT_SPEED_SHIFT;
    else
        x->portsc[p] = PORT_PP | PLS_RXDETECT << PORT_PLS_SHIFT;
}

static void port_reset(struct xhci *x, unsigned p, bool warm)
{
    uint32_t v = x->portsc[p] & ~(PORT_PR | PORT_PLS | PORT_PED);
    if (x->dev[p]) {
        device_bus_reset(x->dev[p]);
        v |= PORT_PED | PLS_U0 << PORT_PLS_SHIFT;
    } else {
        v |= PLS_RXDETECT << PORT_PLS_SHIFT;
    }
    x->portsc[p] = v;
    port_set_change(x, p, PORT_PRC | (warm ? PORT_WRC : 0));
}

static void write_portsc(struct xhci *x, unsigned p, uint32_t v)
{
    uint32_t old = x->portsc[p];
    x->portsc[p] &= ~(v & PORT_CHANGE);
    x->portsc[p] = (x->portsc[p] & ~(PORT_PIC | PORT_WAKE)) | (v & (PORT_PIC | PORT_WAKE));
    if ((v & PORT_WPR) && port_is_usb3(p)) {
        port_reset(x, p, true);
        return;
    }
    if (v & PORT_PR) {
        port_reset(x, p, false);
        return;
    }
    if ((v & PORT_PED) && (old & PORT_PED)) {
        /* Writing 1 disables the port (USB 2). */
        x->portsc[p] &= ~PORT_PED;
        if (!port_is_usb3(p))
            x->portsc[p] = (x->portsc[p] & ~PORT_PLS) | PLS_POLLING << PORT_PLS_SHIFT;
    }
    if ((v & PORT_LWS) && (x->portsc[p] & PORT_PED)) {
        unsigned pls = (v & PORT_PLS) >> PORT_PLS_SHIFT;
        if (pls == PLS_U0 || pls == PLS_U3 || pls == PLS_RESUME) {
            unsigned cur = (x->portsc[p] & PORT_PLS) >> PORT_PLS_SHIFT;
            x->portsc[p] = (x->portsc[p] & ~PORT_PLS) | pls << PORT_PLS_SHIFT;
            /* USB 3 signals the end of a resume; for USB 2 the driver
             * drives it from Resume to U0 itself. */
            if (pls == PLS_U0 && cur != PLS_U0 && port_is_usb3(p))
                port_set_change(x, p, PORT_PLC);
        }
    }
}

/* ---- slots, contexts ------------------------------------------------------ */

static uint64_t ep_ctx_addr(struct xhci_slot *s, unsigned dci)
{
    return s->ctx + (uint64_t)dci * CTX_SIZE;
}

static struct usb_device *slot_device(struct xhci *x, struct xhci_slot *s)
{
    if (s->port == 0 || s->port > XHCI_PORTS)
        return NULL;
    unsigned p = s->port - 1u;
    if (!(x->portsc[p] & PORT_PED))
        return NULL;
    return x->dev[p];
}

/* Mirror the endpoint's state and dequeue pointer into the output context. */
static void ep_sync_ctx(struct xhci *x, struct xhci_slot *s, unsigned dci)
{
    uint32_t c[8];
    if (!s->ctx || !read_ctx(x, ep_ctx_addr(s, dci), c))
        return;
    struct xhci_ep *ep = &s->ep[dci];
    c[0] = (c[0] & ~7u) | ep->state;
    c[2] = (uint32_t)(ep->dequeue & ~0xfull) | ep->ccs;
    c[3] = (uint32_t)(ep->dequeue >> 32);
    write_ctx(x, ep_ctx_addr(s, dci), c);
}

static void slot_sync_ctx(struct xhci *x, struct xhci_slot *s, unsigned slot_id)
{
    uint32_t c[8];
    if (!s->ctx || !read_ctx(x, s->ctx, c))
        return;
    unsigned last = 1;
    for (unsigned i = 2; i <= MAX_DCI; i++)
        if (s->ep[i].state != EP_DISABLED)
            last = i;
    c[0] = (c[0] & ~(0x1fu << 27)) | (uint32_t)last << 27;
    unsigned addr = s->state >= SLOT_ADDRESSED ? slot_id : 0;
    c[3] = (uint32_t)s->state << 27 | addr;
    write_ctx(x, s->ctx, c);
}

static void slot_disable_eps(struct xhci_slot *s, unsigned from)
{
    for (unsigned i = from; i <= MAX_DCI; i++)
        s->ep[i] = (struct xhci_ep){ 0 };
}

/* Take an endpoint context (input or saved) into ep; false if it is not
 * usable for dci. */
static bool ep_from_ctx(struct xhci *x, const uint32_t c[8], unsigned dci, struct xhci_ep *ep)
{
    unsigned type = (c[1] >> 3) & 7;
    uint16_t maxp = (uint16_t)(c[1] >> 16);
    uint64_t deq = ((uint64_t)c[3] << 32 | c[2]) & ~0xfull;
    if (type == 0 || maxp == 0 || deq == 0)
        return false;
    if (dci == 1 ? type != EPT_CONTROL : (type != EPT_CONTROL && (type >= 5) != (dci & 1)))
        return false;
    if (!guest_memory_ptr(vm_memory(x->vm), deq, 16))
        return false;
    *ep = (struct xhci_ep){
        .state = EP_RUNNING, .type = (uint8_t)type, .max_packet = maxp,
        .dequeue = deq, .ccs = c[2] & 1,
    };
    return true;
}

/* ---- transfers ------------------------------------------------------------- */

enum td_result { TD_DONE, TD_NAK, TD_HALT };

/* The stages after a device refused a request, or a request that cannot
 * be run: the endpoint halts with a Stall Error on this TRB. */
static enum td_result stall(struct xhci *x, unsigned slot, unsigned dci, uint64_t trb)
{
    transfer_event(x, slot, dci, trb, CC_STALL, 0, false);
    return TD_HALT;
}

static enum td_result trb_error(struct xhci *x, unsigned slot, unsigned dci, uint64_t trb)
{
    transfer_event(x, slot, dci, trb, CC_TRB, 0, false);
    return TD_HALT;
}

static int control_execute(struct usb_device *d)
{
    const struct usb_setup *s = &d->setup;
    if (s->request_type == 0x00 && s->request == USB_REQ_SET_ADDRESS)
        return 0;           /* the Address Device command owns addressing */
    struct usb_setup clamped = *s;
    clamped.length = (uint16_t)MIN(s->length, USB_CONTROL_MAX);
    return d->ops->control(d, &clamped, d->data);
}

/* Move `got` bytes between buf and the data TRBs of a TD (IN: to the
 * guest; OUT was gathered before) and post the events the TD asks for:
 * Short Packet at the TRB where data ran out, Success with IOC, and Event
 * Data TRBs with the bytes moved since the last one. */
static enum td_result td_finish(struct xhci *x, unsigned slot, unsigned dci,
                                const struct trb *t, const uint64_t *addr, unsigned n,
                                const uint8_t *buf, size_t got, bool in)
{
    size_t done = 0;
    uint32_t edtla = 0;
    bool shorted = false;
    for (unsigned i = 0; i < n; i++) {
        unsigned type = TRB_TYPE(t[i].control);
        if (type == TRB_EVENT_DATA) {
            if (t[i].control & TRB_IOC)
                transfer_event(x, slot, dci, t[i].param,
                               shorted ? CC_SHORT_PACKET : CC_SUCCESS, edtla, true);
            edtla = 0;
            continue;
        }
        if (shorted || (type != TRB_NORMAL && type != TRB_DATA))
            continue;
        uint32_t len = TRB_LEN(t[i].status);
        size_t k = MIN((size_t)len, got - done);
        if (in && k) {
            if (t[i].control & TRB_IDT)
                return trb_error(x, slot, dci, addr[i]);
            if (!guest_memory_write(vm_memory(x->vm), t[i].param, buf + done, k)) {
                transfer_event(x, slot, dci, addr[i], CC_DATA_BUFFER, len, false);
                return TD_HALT;
            }
        }
        done += k;
        edtla += (uint32_t)k;
        if (k < len) {
            shorted = true;
            if (t[i].control & (TRB_ISP | TRB_IOC))
                transfer_event(x, slot, dci, addr[i], CC_SHORT_PACKET, len - (uint32_t)k, false);
        } else if (t[i].control & TRB_IOC) {
            transfer_event(x, slot, dci, addr[i], CC_SUCCESS, 0, false);
        }
    }
    return TD_DONE;
}

/* Gather the OUT data of a TD's data TRBs into buf (at most max bytes). */
static bool td_gather(struct xhci *x, const struct trb *t, unsigned n, uint8_t *buf,
                      size_t max, size_t *len, unsigned *bad)
{
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned type = TRB_TYPE(t[i].control);
        if (type != TRB_NORMAL && type != TRB_DATA)
            continue;
        uint32_t l = TRB_LEN(t[i].status);
        if (total + l > max || ((t[i].control & TRB_IDT) && l > 8)) {
            *bad = i;
            return false;
        }
        if (t[i].control & TRB_IDT) {
            uint64_t imm = GUINT64_TO_LE(t[i].param);
            memcpy(buf + total, &imm, l);
        } else if (l && !guest_memory_read(vm_memory(x->vm), t[i].param, buf + total, l)) {
            *bad = i;
            return false;
        }
        total += l;
    }
    *len = total;
    return true;
}

static size_t td_length(const struct trb *t, unsigned n)
{
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned type = TRB_TYPE(t[i].control);
        if (type == TRB_NORMAL || type == TRB_DATA)
            total += TRB_LEN(t[i].status);
    }
    return total;
}

static enum td_result run_setup(struct xhci *x, unsigned slot, struct usb_device *d,
                                const struct trb *t, uint64_t addr)
{
    if (!(t->control & TRB_IDT) || TRB_LEN(t->status) != 8)
        return trb_error(x, slot, 1, addr);
    uint64_t p = t->param;
    d->setup = (struct usb_setup){
        .request_type = (uint8_t)p, .request = (uint8_t)(p >> 8),
        .value = (uint16_t)(p >> 16), .index = (uint16_t)(p >> 32),
        .length = (uint16_t)(p >> 48),
    };
    d->setup_valid = true;
    d->data_len = d->data_pos = 0;
    if (d->setup.request_type & USB_DIR_IN) {
        int r = control_execute(d);
        if (r < 0)
            d->setup_valid = false;         /* the next stage stalls */
        else
            d->data_len = (size_t)MIN(r, MIN(d->setup.length, USB_CONTROL_MAX));
    }
    if (t->control & TRB_IOC)
        transfer_event(x, slot, 1, addr, CC_SUCCESS, 0, false);
    return TD_DONE;
}

static enum td_result run_data_stage(struct xhci *x, unsigned slot, struct usb_device *d,
                                     const struct trb *t, const uint64_t *addr, unsigned n)
{
    if (!d->setup_valid)
        return stall(x, slot, 1, addr[0]);
    bool in = t[0].control & TRB_DIR_IN;
    if (in != !!(d->setup.request_type & USB_DIR_IN)) {
        d->setup_valid = false;
        return stall(x, slot, 1, addr[0]);
    }
    if (in) {
        size_t got = MIN(td_length(t, n), d->data_len - d->data_pos);
        const uint8_t *src = d->data + d->data_pos;
        d->data_pos += got;
        return td_finish(x, slot, 1, t, addr, n, src, got, true);
    }
    size_t room = MIN((size_t)d->setup.length, (size_t)USB_CONTROL_MAX) - d->data_pos;
    size_t len;
    unsigned bad;
    if (!td_gather(x, t, n, d->data + d->data_pos, room, &len, &bad)) {
        d->setup_valid = false;
        transfer_event(x, slot, 1, addr[bad], CC_DATA_BUFFER, TRB_LEN(t[bad].status), false);
        return TD_HALT;
    }
    d->data_pos += len;
    return td_finish(x, slot, 1, t, addr, n, NULL, len, false);
}

static enum td_result run_status_stage(struct xhci *x, unsigned slot, struct usb_device *d,
                                       const struct trb *t, uint64_t addr)
{
    if (!d->setup_valid)
        return stall(x, slot, 1, addr);
    d->setup_valid = false;
    if (!(d->setup.request_type & USB_DIR_IN)) {
        d->data_len = d->data_pos;
        if (control_execute(d) < 0)
            return stall(x, slot, 1, addr);
    }
    if (t->control & TRB_IOC)
        transfer_event(x, slot, 1, addr, CC_SUCCESS, 0, false);
    return TD_DONE;
}

static enum td_result run_normal(struct xhci *x, unsigned slot, unsigned dci, struct usb_device *d,
                                 const struct trb *t, const uint64_t *addr, unsigned n)
{
    uint8_t buf[PACKET_MAX];
    unsigned epnum = dci / 2;
    if (dci & 1) {
        size_t want = MIN(td_length(t, n), sizeof(buf));
        int r = d->ops->data_in ? d->ops->data_in(d, epnum, buf, want) : USB_RET_STALL;
        if (r == USB_RET_NAK)
            return TD_NAK;
        if (r < 0)
            return stall(x, slot, dci, addr[0]);
        return td_finish(x, slot, dci, t, addr, n, buf, MIN((size_t)r, want), true);
    }
    size_t len;
    unsigned bad;
    if (!td_gather(x, t, n, buf, sizeof(buf), &len, &bad)) {
        transfer_event(x, slot, dci, addr[bad], CC_DATA_BUFFER, TRB_LEN(t[bad].status), false);
        return TD_HALT;
    }
    int r = d->ops->data_out ? d->ops->data_out(d, epnum, buf, len) : USB_RET_STALL;
    if (r == USB_RET_NAK)
        return TD_NAK;
    if (r < 0)
        return stall(x, slot, dci, addr[0]);
    return td_finish(x, slot, dci, t, addr, n, NULL, len, false);
}

static enum td_result run_td(struct xhci *x, unsigned slot, unsigned dci,
                             const struct trb *t, const uint64_t *addr, unsigned n)
{
    struct xhci_slot *s = &x->slot[slot];
    struct usb_device *d = slot_device(x, s);
    unsigned type = TRB_TYPE(t[0].control);
    bool control = s->ep[dci].type == EPT_CONTROL;
    if (type == TRB_NOOP || type == TRB_EVENT_DATA)
        return td_finish(x, slot, dci, t, addr, n, NULL, 0, false);
    if (!d) {
        transfer_event(x, slot, dci, addr[0], CC_TRANSACTION, 0, false);
        return TD_HALT;
    }
    /* Control pipes other than endpoint 0 are not used by our devices. */
    if (control && dci != 1)
        return stall(x, slot, dci, addr[0]);
    switch (type) {
    case TRB_SETUP:
        return control ? run_setup(x, slot, d, &t[0], addr[0]) : trb_error(x, slot, dci, addr[0]);
    case TRB_DATA:
        return control ? run_data_stage(x, slot, d, t, addr, n) : trb_error(x, slot, dci, addr[0]);
    case TRB_STATUS:
        return control ? run_status_stage(x, slot, d, &t[0], addr[0])
                       : trb_error(x, slot, dci, addr[0]);
    case TRB_NORMAL:
        return control ? trb_error(x, slot, dci, addr[0]) : run_normal(x, slot, dci, d, t, addr, n);
    default:
        /* Isochronous and reserved types are not supported here. */
        return trb_error(x, slot, dci, addr[0]);
    }
}

enum fetch { FETCH_OK, FETCH_EMPTY, FETCH_ERROR };

/* The TRB at *deq owned by the controller, following Link TRBs (at most
 * LINK_BUDGET in a row, so a ring of links cannot spin). */
static enum fetch ring_fetch(struct xhci *x, uint64_t *deq, bool *ccs, struct trb *t)
{
    for (unsigned links = 0; links < LINK_BUDGET; links++) {
        if (!read_trb(x, *deq, t))
            return FETCH_ERROR;
        if (!!(t->control & TRB_C) != *ccs)
            return FETCH_EMPTY;
        if (TRB_TYPE(t->control) != TRB_LINK)
            return FETCH_OK;
        if (t->control & TRB_TC)
            *ccs = !*ccs;
        *deq = t->param & ~0xfull;
    }
    return FETCH_ERROR;
}

static void ep_halt(struct xhci *x, unsigned slot, unsigned dci)
{
    struct xhci_slot *s = &x->slot[slot];
    s->ep[dci].state = EP_HALTED;
    ep_sync_ctx(x, s, dci);
}

static void ep_run(struct xhci *x, unsigned slot, unsigned dci)
{
    struct xhci_slot *s = &x->slot[slot];
    struct xhci_ep *ep = &s->ep[dci];
    unsigned budget = RING_BUDGET;
    struct trb t[TD_MAX_TRBS];
    uint64_t addr[TD_MAX_TRBS];
    while (ep->state == EP_RUNNING && (x->usbcmd & CMD_RS) && budget) {
        uint64_t deq = ep->dequeue;
        bool ccs = ep->ccs;
        unsigned n = 0;
        for (;;) {
            enum fetch f = ring_fetch(x, &deq, &ccs, &t[n]);
            if (f == FETCH_EMPTY || budget == 0)
                return;         /* nothing (whole) queued yet, or enough for now */
            if (f == FETCH_ERROR || n + 1 == TD_MAX_TRBS) {
                trb_error(x, slot, dci, deq);
                ep_halt(x, slot, dci);
                return;
            }
            budget--;
            addr[n] = deq;
            deq += 16;
            if (!(t[n++].control & TRB_CH))
                break;
        }
        enum td_result r = run_td(x, slot, dci, t, addr, n);
        if (r == TD_NAK)
            return;
        ep->dequeue = deq;
        ep->ccs = ccs;
        if (r == TD_HALT) {
            ep_halt(x, slot, dci);
            return;
        }
    }
}

/* Retry the IN endpoints waiting on the device of this port. */
static void device_data_ready(struct usb_device *dev)
{
    struct xhci *x = dev->controller;
    g_mutex_lock(&x->lock);
    for (unsigned id = 1; id <= XHCI_SLOTS; id++) {
        struct xhci_slot *s = &x->slot[id];
        if (!s->enabled || slot_device(x, s) != dev)
            continue;
        for (unsigned dci = 3; dci <= MAX_DCI; dci += 2)
            if (s->ep[dci].state == EP_RUNNING)
                ep_run(x, id, dci);
    }
    g_mutex_unlock(&x->lock);
}

/* ---- commands --------------------------------------------------------------- */

static bool valid_slot(struct xhci *x, unsigned id)
{
    return id >= 1 && id <= XHCI_SLOTS && id <= (x->config & 0xff) && x->slot[id].enabled;
}

static unsigned cmd_enable_slot(struct xhci *x, unsigned *slot_out)
{
    for (unsigned id = 1; id <= XHCI_SLOTS && id <= (x->config & 0xff); id++) {
        if (!x->slot[id].enabled) {
            x->slot[id] = (struct xhci_slot){ .enabled = true, .state = SLOT_ENABLED };
            *slot_out = id;
            return CC_SUCCESS;
        }
    }
    return CC_NO_SLOTS;
}

static bool read_dcbaa(struct xhci *x, unsigned id, uint64_t *ctx)
{
    uint64_t v;
    if (!guest_memory_read(vm_memory(x->vm), x->dcbaap + id * 8ull, &v, 8))
        return false;
    *ctx = GUINT64_FROM_LE(v) & ~0x3full;
    return *ctx && guest_memory_ptr(vm_memory(x->vm), *ctx, CTX_SIZE * (MAX_DCI + 1));
}

/* The input context's control words, slot context and the contexts of
 * the endpoints in add; false if any is unreadable. */
static bool read_input(struct xhci *x, uint64_t in, uint32_t ctl[8], uint32_t ctx[][8],
                       uint32_t add)
{
    if (!read_ctx(x, in, ctl))
        return false;
    for (unsigned i = 0; i <= MAX_DCI; i++)
        if ((add | ctl[1]) & (1u << i) && !read_ctx(x, in + (i + 1ull) * CTX_SIZE, ctx[i]))
            return false;
    return true;
}

static unsigned cmd_address_device(struct xhci *x, unsigned id, uint64_t in, bool bsr)
{
    struct xhci_slot *s = &x->slot[id];
    if (s->state > SLOT_DEFAULT || (bsr && s->state == SLOT_DEFAULT))
        return CC_CONTEXT_STATE;
    uint32_t ctl[8], ctx[MAX_DCI + 1][8];
    if (!read_input(x, in & ~0xfull, ctl, ctx, 3) || (ctl[1] & 3) != 3)
        return CC_PARAMETER;
    unsigned port = (ctx[0][1] >> 16) & 0xff;
    struct xhci_ep ep0;
    uint64_t out;
    if (!ep_from_ctx(x, ctx[1], 1, &ep0) || !read_dcbaa(x, id, &out))
        return CC_PARAMETER;
    if (port == 0 || port > XHCI_PORTS || !x->dev[port - 1] ||
        !(x->portsc[port - 1] & PORT_PED))
        return CC_TRANSACTION;
    for (unsigned p = 1; p <= XHCI_SLOTS; p++)
        if (p != id && x->slot[p].enabled && x->slot[p].port == port)
            return CC_CONTEXT_STATE;    /* one slot per device */
    s->ctx = out;
    s->port = (uint8_t)port;
    s->state = bsr ? SLOT_DEFAULT : SLOT_ADDRESSED;
    slot_disable_eps(s, 1);
    s->ep[1] = ep0;
    struct usb_device *d = x->dev[port - 1];
    d->setup_valid = false;
    if (!bsr)
        d->addr = (uint8_t)id;
    write_ctx(x, out, ctx[0]);
    write_ctx(x, out + CTX_SIZE, ctx[1]);
    for (unsigned i = 2; i <= MAX_DCI; i++) {
        static const uint32_t zero[8];
        write_ctx(x, out + (uint64_t)i * CTX_SIZE, zero);
    }
    slot_sync_ctx(x, s, id);
    ep_sync_ctx(x, s, 1);
    return CC_SUCCESS;
}

static unsigned cmd_configure_ep(struct xhci *x, unsigned id, uint64_t in, bool deconfigure)
{
    struct xhci_slot *s = &x->slot[id];
    if (s->state != SLOT_ADDRESSED && s->state != SLOT_CONFIGURED)
        return CC_CONTEXT_STATE;
    if (deconfigure) {
        slot_disable_eps(s, 2);
        for (unsigned i = 2; i <= MAX_DCI; i++) {
            s->ep[i].state = EP_DISABLED;
            ep_sync_ctx(x, s, i);
        }
        s->state = SLOT_ADDRESSED;
        slot_sync_ctx(x, s, id);
        return CC_SUCCESS;
    }
    uint32_t ctl[8], ctx[MAX_DCI + 1][8];
    if (!read_input(x, in & ~0xfull, ctl, ctx, 0))
        return CC_PARAMETER;
    uint32_t drop = ctl[0] & ~3u, add = ctl[1] & ~3u;
    /* Check everything before changing anything. */
    struct xhci_ep eps[MAX_DCI + 1];
    for (unsigned i = 2; i <= MAX_DCI; i++)
        if ((add & (1u << i)) && !ep_from_ctx(x, ctx[i + 0], i, &eps[i]))
            return CC_PARAMETER;
    bool any = false;
    for (unsigned i = 2; i <= MAX_DCI; i++) {
        if (drop & (1u << i)) {
            s->ep[i] = (struct xhci_ep){ 0 };
            ep_sync_ctx(x, s, i);
        }
        if (add & (1u << i)) {
            s->ep[i] = eps[i];
            uint32_t c[8];
            memcpy(c, ctx[i], sizeof(c));
            write_ctx(x, ep_ctx_addr(s, i), c);
            ep_sync_ctx(x, s, i);
        }
        any |= s->ep[i].state != EP_DISABLED;
    }
    s->state = any ? SLOT_CONFIGURED : SLOT_ADDRESSED;
    slot_sync_ctx(x, s, id);
    return CC_SUCCESS;
}

static unsigned cmd_evaluate_ctx(struct xhci *x, unsigned id, uint64_t in)
{
    struct xhci_slot *s = &x->slot[id];
    if (s->state == SLOT_ENABLED || !s->ctx)
        return CC_CONTEXT_STATE;
    uint32_t ctl[8], ctx[MAX_DCI + 1][8];
    if (!read_input(x, in & ~0xfull, ctl, ctx, 0) || (ctl[1] & ~3u))
        return CC_PARAMETER;
    uint32_t c[8];
    if (ctl[1] & 1) {
        if (!read_ctx(x, s->ctx, c))
            return CC_PARAMETER;
        c[1] = (c[1] & ~0xffffu) | (ctx[0][1] & 0xffff);        /* max exit latency */
        c[2] = (c[2] & 0x3fffffu) | (ctx[0][2] & ~0x3fffffu);   /* interrupter */
        write_ctx(x, s->ctx, c);
    }
    if (ctl[1] & 2) {
        uint16_t maxp = (uint16_t)(ctx[1][1] >> 16);
        if (maxp == 0 || !read_ctx(x, ep_ctx_addr(s, 1), c))
            return CC_PARAMETER;
        s->ep[1].max_packet = maxp;
        c[1] = (c[1] & 0xffff) | (uint32_t)maxp << 16;
        write_ctx(x, ep_ctx_addr(s, 1), c);
    }
    return CC_SUCCESS;
}

static unsigned cmd_endpoint(struct xhci *x, unsigned type, unsigned id, unsigned dci,
                             uint64_t param)
{
    struct xhci_slot *s = &x->slot[id];
    if (dci == 0 || dci > MAX_DCI)
        return CC_TRB;
    struct xhci_ep *ep = &s->ep[dci];
    if (ep->state == EP_DISABLED)
        return CC_EP_NOT_ENABLED;
    struct usb_device *d = slot_device(x, s);
    switch (type) {
    case CMD_RESET_EP:
        if (ep->state != EP_HALTED)
            return CC_CONTEXT_STATE;
        ep->state = EP_STOPPED;
        if (dci == 1 && d)
            d->setup_valid = false;
        break;
    case CMD_STOP_EP:
        if (ep->state == EP_HALTED || ep->state == EP_ERROR)
            return CC_CONTEXT_STATE;
        ep->state = EP_STOPPED;
        break;
    case CMD_SET_TR_DEQ: {
        uint64_t deq = param & ~0xfull;
        if (ep->state != EP_STOPPED && ep->state != EP_ERROR)
            return CC_CONTEXT_STATE;
        if (!deq || !guest_memory_ptr(vm_memory(x->vm), deq, 16))
            return CC_PARAMETER;
        ep->dequeue = deq;
        ep->ccs = param & 1;
        ep->state = EP_STOPPED;
        break;
    }
    }
    ep_sync_ctx(x, s, dci);
    return CC_SUCCESS;
}

static unsigned run_command(struct xhci *x, const struct trb *t, unsigned *slot_out)
{
    unsigned type = TRB_TYPE(t->control), id = TRB_SLOT(t->control);
    *slot_out = id;
    switch (type) {
    case CMD_NOOP:
        *slot_out = 0;
        return CC_SUCCESS;
    case CMD_ENABLE_SLOT:
        *slot_out = 0;
        return cmd_enable_slot(x, slot_out);
    default:
        break;
    }
    if (type < CMD_DISABLE_SLOT || type > CMD_RESET_DEVICE)
        return CC_TRB;
    if (!valid_slot(x, id))
        return CC_SLOT_NOT_ENABLED;
    struct xhci_slot *s = &x->slot[id];
    switch (type) {
    case CMD_DISABLE_SLOT:
        if (s->state != SLOT_ENABLED) {
            s->state = SLOT_ENABLED;
            slot_sync_ctx(x, s, id);
        }
        *s = (struct xhci_slot){ 0 };
        return CC_SUCCESS;
    case CMD_ADDRESS_DEVICE:
        return cmd_address_device(x, id, t->param, t->control & TRB_BSR);
    case CMD_CONFIGURE_EP:
        return cmd_configure_ep(x, id, t->param, t->control & TRB_DC);
    case CMD_EVALUATE_CTX:
        return cmd_evaluate_ctx(x, id, t->param);
    case CMD_RESET_DEVICE:
        if (s->state == SLOT_ENABLED || s->state == SLOT_DEFAULT)
            return CC_CONTEXT_STATE;
        slot_disable_eps(s, 2);
        for (unsigned i = 2; i <= MAX_DCI; i++)
            ep_sync_ctx(x, s, i);
        s->state = SLOT_DEFAULT;
        slot_sync_ctx(x, s, id);
        return CC_SUCCESS;
    default:
        return cmd_endpoint(x, type, id, TRB_EP(t->control), t->param);
    }
}

static void run_commands(struct xhci *x)
{
    if (!(x->usbcmd & CMD_RS))
        return;
    x->crr = true;
    for (unsigned budget = RING_BUDGET; budget; budget--) {
        struct trb t;
        uint64_t deq = x->cmd_dequeue;
        bool ccs = x->cmd_ccs;
        enum fetch f = ring_fetch(x, &deq, &ccs, &t);
        if (f == FETCH_EMPTY) {
            x->cmd_dequeue = deq;
            x->cmd_ccs = ccs;
            return;
        }
        if (f == FETCH_ERROR) {
            /* The ring points nowhere (or is all links): the controller
             * cannot go on and says so. */
            x->crr = false;
            x->usbsts |= STS_HSE;
            host_error(x);
            return;
        }
        unsigned slot = 0;
        unsigned cc = run_command(x, &t, &slot);
        x->cmd_dequeue = deq + 16;
        x->cmd_ccs = ccs;
        post_event(x, deq, (uint32_t)cc << 24,
                   (uint32_t)EV_CMD_COMPLETE << 10 | (slot & 0xff) << 24);
    }
}

static void ring_doorbell(struct xhci *x, unsigned n, uint32_t v)
{
    if (!(x->usbcmd & CMD_RS))
        return;
    if (n == 0) {
        if ((v & 0xff) == 0)
            run_commands(x);
        return;
    }
    unsigned dci = v & 0xff;
    if (!valid_slot(x, n) || dci == 0 || dci > MAX_DCI)
        return;
    struct xhci_ep *ep = &x->slot[n].ep[dci];
    if (ep->state == EP_STOPPED) {
        ep->state = EP_RUNNING;
        ep_sync_ctx(x, &x->slot[n], dci);
    }
    if (ep->state == EP_RUNNING)
        ep_run(x, n, dci);
}

/* ---- registers ------------------------------------------------------------- */

static void controller_reset(struct xhci *x)
{
    x->usbcmd = 0;
    x->usbsts = STS_HCH;
    x->dnctrl = 0;
    x->config = 0;
    x->dcbaap = 0;
    x->cmd_dequeue = 0;
    x->cmd_ccs = false;
    x->crr = false;
    x->iman = x->imod = x->erstsz = 0;
    x->imod = 4000;
    x->erstba = x->erdp = 0;
    x->erst_valid = false;
    x->ev_seg = x->ev_idx = 0;
    x->ev_pcs = true;
    x->ev_full = false;
    x->intr_pending = false;
    memset(x->slot, 0, sizeof(x->slot));
    for (unsigned p = 0; p < XHCI_PORTS; p++) {
        if (x->dev[p])
            device_bus_reset(x->dev[p]);
        port_init(x, p);
    }
    update_intx(x);
}

static uint32_t ext_cap_read(unsigned off)
{
    /* Two Supported Protocol capabilities: USB 2.0 on ports 1-4, USB 3.0
     * on ports 5-8, default speed IDs. */
    static const uint32_t caps[8] = {
        0x02000402, 0x20425355, (XHCI_PORTS_USB2 << 8) | 1, 0,
        0x03000002, 0x20425355, (XHCI_PORTS_USB3 << 8) | (XHCI_PORTS_USB2 + 1), 0,
    };
    unsigned i = (off - XECP_BASE) / 4;
    return i < G_N_ELEMENTS(caps) ? caps[i] : 0;
}

static uint32_t cap_read(unsigned off)
{
    switch (off) {
    case 0x00: return CAP_LEN | 0x0100u << 16;                 /* HCIVERSION 1.0 */
    case 0x04: return XHCI_SLOTS | 1u << 8 | (uint32_t)XHCI_PORTS << 24;
    case 0x08: return ERST_MAX_LOG2 << 4;                      /* no scratchpads */
    case 0x0c: return 0;
    case 0x10: return 1u | (XECP_BASE / 4u) << 16;             /* AC64 */
    case 0x14: return DB_BASE;
    case 0x18: return RT_BASE;
    default: return 0;
    }
}

static uint32_t op_read(struct xhci *x, unsigned off)
{
    if (off >= 0x400) {
        unsigned p = (off - 0x400) / 16;
        if (p >= XHCI_PORTS)
            return 0;
        switch ((off - 0x400) % 16) {
        case 0: return x->portsc[p];
        case 4: return x->portpmsc[p];
        default: return 0;
        }
    }
    switch (off) {
    case OP_USBCMD: return x->usbcmd;
    case OP_USBSTS: return x->usbsts;
    case OP_PAGESIZE: return 1;                 /* 4 KiB */
    case OP_DNCTRL: return x->dnctrl;
    case OP_CRCR: return x->crr ? CRCR_CRR : 0; /* the pointer reads as 0 */
    case OP_DCBAAP: return (uint32_t)x->dcbaap;
    case OP_DCBAAP_HI: return (uint32_t)(x->dcbaap >> 32);
    case OP_CONFIG: return x->config;
    default: return 0;
    }
}

static void write_usbcmd(struct xhci *x, uint32_t v)
{
    if (v & CMD_HCRST) {
        controller_reset(x);
        return;
    }
    bool was = x->usbcmd & CMD_RS, was_inte = x->usbcmd & CMD_INTE;
    x->usbcmd = v & CMD_MASK;
    if (!was && (v & CMD_RS)) {
        x->usbsts &= ~STS_HCH;
        x->run_start = g_get_monotonic_time();
    } else if (was && !(v & CMD_RS)) {
        x->usbsts |= STS_HCH;
        x->crr = false;
    }
    /* Enabling interrupts delivers what is pending. */
    if ((x->iman & (IMAN_IP | IMAN_IE)) == (IMAN_IP | IMAN_IE) && (x->usbcmd & CMD_INTE) &&
        !was_inte)
        send_message(x);
    update_intx(x);
}

static void write_crcr(struct xhci *x, bool high, uint32_t v)
{
    if (x->crr) {
        if (!high && (v & (CRCR_CS | CRCR_CA))) {
            x->crr = false;
            post_event(x, x->cmd_dequeue, (uint32_t)CC_CMD_RING_STOPPED << 24,
                       (uint32_t)EV_CMD_COMPLETE << 10);
        }
        return;
    }
    if (high) {
        x->cmd_dequeue = (x->cmd_dequeue & 0xffffffffull) | (uint64_t)v << 32;
    } else {
        x->cmd_dequeue = (x->cmd_dequeue & ~0xffffffffull) | (v & ~0x3fu);
        x->cmd_ccs = v & CRCR_RCS;
    }
}

static void op_write(struct xhci *x, unsigned off, uint32_t v)
{
    if (off >= 0x400) {
        unsigned p = (off - 0x400) / 16;
        if (p >= XHCI_PORTS)
            return;
        if ((off - 0x400) % 16 == 0)
            write_portsc(x, p, v);
        else if ((off - 0x400) % 16 == 4)
            x->portpmsc[p] = v;
        return;
    }
    switch (off) {
    case OP_USBCMD:
        write_usbcmd(x, v);
        break;
    case OP_USBSTS:
        x->usbsts &= ~(v & STS_W1C);
        break;
    case OP_DNCTRL:
        x->dnctrl = v & 0xffff;
        break;
    case OP_CRCR:
        write_crcr(x, false, v);
        break;
    case OP_CRCR_HI:
        write_crcr(x, true, v);
        break;
    case OP_DCBAAP:
        x->dcbaap = (x->dcbaap & ~0xffffffffull) | (v & ~0x3fu);
        break;
    case OP_DCBAAP_HI:
        x->dcbaap = (x->dcbaap & 0xffffffffull) | (uint64_t)v << 32;
        break;
    case OP_CONFIG:
        x->config = (v & 0xff) > XHCI_SLOTS ? ((v & ~0xffu) | XHCI_SLOTS) : v;
        x->config &= 0x3ff;
        break;
    }
}

static uint32_t rt_read(struct xhci *x, unsigned off)
{
    switch (off) {
    case 0x00:
        if (!(x->usbcmd & CMD_RS))
            return 0;
        return (uint32_t)(((g_get_monotonic_time() - x->run_start) * 8 / 1000) & 0x3fff);
    case 0x20: return x->iman;
    case 0x24: return x->imod;
    case 0x28: return x->erstsz;
    case 0x30: return (uint32_t)x->erstba;
    case 0x34: return (uint32_t)(x->erstba >> 32);
    case 0x38: return (uint32_t)x->erdp;
    case 0x3c: return (uint32_t)(x->erdp >> 32);
    default: return 0;
    }
}

static void erdp_written(struct xhci *x)
{
    uint64_t enq = x->erst_valid ? ev_enqueue_addr(x) : 0;
    if (x->ev_full && (x->erdp & ~0xfull) != x->ev_full_erdp) {
        /* Room again: events resume after the Event Ring Full one. */
        x->ev_full = false;
    }
    if (!x->ev_full) {
        /* Only events the driver has not taken yet ask for an interrupt. */
        x->intr_pending = x->erst_valid && (x->erdp & ~0xfull) != enq;
    }
    raise_interrupt(x);
}

static void rt_write(struct xhci *x, unsigned off, uint32_t v)
{
    switch (off) {
    case 0x20: {
        bool was_ie = x->iman & IMAN_IE;
        x->iman = (x->iman & ~(v & IMAN_IP) & ~IMAN_IE) | (v & IMAN_IE);
        if (!was_ie && (x->iman & IMAN_IE) && (x->iman & IMAN_IP) && (x->usbcmd & CMD_INTE))
            send_message(x);
        update_intx(x);
        break;
    }
    case 0x24:
        x->imod = v;
        break;
    case 0x28:
        x->erstsz = v & 0xffff;
        break;
    case 0x30:
        x->erstba = (x->erstba & ~0xffffffffull) | (v & ~0x3fu);
        load_erst(x);
        break;
    case 0x34:
        x->erstba = (x->erstba & 0xffffffffull) | (uint64_t)v << 32;
        load_erst(x);
        break;
    case 0x38:
        if (v & ERDP_EHB)
            x->erdp &= ~(uint64_t)ERDP_EHB;
        x->erdp = (x->erdp & (~0xffffffffull | ERDP_EHB)) | (v & ~0xfu) | (v & 7);
        erdp_written(x);
        break;
    case 0x3c:
        x->erdp = (x->erdp & 0xffffffffull) | (uint64_t)v << 32;
        erdp_written(x);
        break;
    }
}

static uint32_t reg_read(struct xhci *x, unsigned off)
{
    if (off < CAP_LEN)
        return cap_read(off);
    if (off >= XECP_BASE && off < RT_BASE)
        return ext_cap_read(off);
    if (off < XECP_BASE)
        return op_read(x, off - OP_BASE);
    if (off < RT_BASE + 0x40)
        return rt_read(x, off - RT_BASE);
    return 0;                   /* doorbells read as 0 */
}

static void reg_write(struct xhci *x, unsigned off, uint32_t v)
{
    if (off >= OP_BASE && off < XECP_BASE)
        op_write(x, off - OP_BASE, v);
    else if (off >= RT_BASE && off < RT_BASE + 0x40)
        rt_write(x, off - RT_BASE, v);
    else if (off >= DB_BASE && off < DB_BASE + 4 * (XHCI_SLOTS + 1))
        ring_doorbell(x, (off - DB_BASE) / 4, v);
}

static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    struct xhci *x = opaque;
    if (offset >= BAR_SIZE)
        return ~0ull;
    unsigned off = (unsigned)offset;
    g_mutex_lock(&x->lock);
    uint64_t v;
    if (size == 8 && !(off & 7)) {
        v = reg_read(x, off) | (uint64_t)reg_read(x, off + 4) << 32;
    } else {
        unsigned shift = (off & 3) * 8;
        v = reg_read(x, off & ~3u) >> shift;
        if (size < 4)
            v &= (1ull << (size * 8)) - 1;
    }
    g_mutex_unlock(&x->lock);
    return v;
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct xhci *x = opaque;
    if (offset >= BAR_SIZE || (offset & 3))
        return;
    unsigned off = (unsigned)offset;
    g_mutex_lock(&x->lock);
    if (size == 8) {
        reg_write(x, off, (uint32_t)value);
        reg_write(x, off + 4, (uint32_t)(value >> 32));
    } else if (size == 4) {
        reg_write(x, off, (uint32_t)value);
    }
    /* Narrower writes: no register of ours takes them. */
    g_mutex_unlock(&x->lock);
}

static const struct io_ops xhci_mmio_ops = { .read = mmio_read, .write = mmio_write };

static void config_written(struct pci_device *dev, unsigned offset, unsigned size)
{
    struct xhci *x = dev->opaque;
    pci_msix_config_written(&x->msix, offset, size);
    g_mutex_lock(&x->lock);
    update_intx(x);
    g_mutex_unlock(&x->lock);
}

static void platform_reset(void *opaque)
{
    struct xhci *x = opaque;
    pci_msix_reset(&x->msix);
    pci_device_reset(&x->pci);
    g_mutex_lock(&x->lock);
    controller_reset(x);
    g_mutex_unlock(&x->lock);
}

/* ---- VM state ---------------------------------------------------------------- */

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
    if (addr > 127 || len > USB_CONTROL_MAX || pos > USB_CONTROL_MAX ||
        pos > MIN((size_t)setup.length, (size_t)USB_CONTROL_MAX))
        return state_in_invalid(in, error, _("USB control pipe"));
    state_in_bytes(in, d->data, len);
    d->addr = addr;
    d->setup = setup;
    d->setup_valid = valid;
    d->data_len = len;
    d->data_pos = pos;
    d->pending_addr = -1;
    return true;
}

static bool xhci_save(struct pci_device *dev, struct state_out *o, GError **error)
{
    struct xhci *x = dev->opaque;
    for (unsigned p = 0; p < XHCI_PORTS; p++) {
        if (x->dev[p] && (!x->dev[p]->ops->save || !x->dev[p]->ops->load)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                        _("xhci: the USB device on port %u does not support saving yet"), p + 1);
            return false;
        }
    }
    g_mutex_lock(&x->lock);
    state_out_u32(o, x->usbcmd);
    state_out_u32(o, x->usbsts);
    state_out_u32(o, x->dnctrl);
    state_out_u32(o, x->config);
    state_out_u64(o, x->dcbaap);
    state_out_u64(o, x->cmd_dequeue);
    state_out_bool(o, x->cmd_ccs);
    state_out_bool(o, x->crr);
    state_out_u32(o, x->iman);
    state_out_u32(o, x->imod);
    state_out_u32(o, x->erstsz);
    state_out_u64(o, x->erstba);
    state_out_u64(o, x->erdp);
    state_out_bool(o, x->erst_valid);
    for (unsigned i = 0; i < ERST_MAX; i++) {
        state_out_u64(o, x->seg[i].base);
        state_out_u32(o, x->seg[i].size);
    }
    state_out_u32(o, x->ev_seg);
    state_out_u32(o, x->ev_idx);
    state_out_bool(o, x->ev_pcs);
    state_out_bool(o, x->ev_full);
    state_out_u64(o, x->ev_full_erdp);
    state_out_bool(o, x->intr_pending);
    for (unsigned id = 1; id <= XHCI_SLOTS; id++) {
        const struct xhci_slot *s = &x->slot[id];
        state_out_bool(o, s->enabled);
        state_out_u8(o, s->state);
        state_out_u8(o, s->port);
        state_out_u64(o, s->ctx);
        for (unsigned i = 1; i <= MAX_DCI; i++) {
            const struct xhci_ep *ep = &s->ep[i];
            state_out_u8(o, ep->state);
            state_out_u8(o, ep->type);
            state_out_u16(o, ep->max_packet);
            state_out_u64(o, ep->dequeue);
            state_out_bool(o, ep->ccs);
        }
    }
    for (unsigned p = 0; p < XHCI_PORTS; p++) {
        state_out_u32(o, x->portsc[p]);
        state_out_u32(o, x->portpmsc[p]);
        state_out_bool(o, x->dev[p] != NULL);
        if (x->dev[p]) {
            save_pipe(x->dev[p], o);
            x->dev[p]->ops->save(x->dev[p], o);
        }
    }
    g_mutex_unlock(&x->lock);
    pci_msix_save(&x->msix, o);
    return true;
}

static bool load_slots(struct xhci *x, struct state_in *in, GError **error)
{
    for (unsigned id = 1; id <= XHCI_SLOTS; id++) {
        struct xhci_slot *s = &x->slot[id];
        s->enabled = state_in_bool(in);
        s->state = state_in_u8(in);
        s->port = state_in_u8(in);
        s->ctx = state_in_u64(in);
        if (s->state > SLOT_CONFIGURED || s->port > XHCI_PORTS || (s->ctx & 0x3f))
            return state_in_invalid(in, error, _("xHCI slot %u"), id);
        for (unsigned i = 1; i <= MAX_DCI; i++) {
            struct xhci_ep *ep = &s->ep[i];
            ep->state = state_in_u8(in);
            ep->type = state_in_u8(in);
            ep->max_packet = state_in_u16(in);
            ep->dequeue = state_in_u64(in);
            ep->ccs = state_in_bool(in);
            if (ep->state > EP_ERROR || ep->type > 7 || (ep->dequeue & 0xf))
                return state_in_invalid(in, error, _("xHCI slot %u endpoint %u"), id, i);
        }
    }
    return true;
}

static bool load_ports(struct xhci *x, struct state_in *in, GError **error)
{
    for (unsigned p = 0; p < XHCI_PORTS; p++) {
        x->portsc[p] = state_in_u32(in);
        x->portpmsc[p] = state_in_u32(in);
        bool present = state_in_bool(in);
        if (present != (x->dev[p] != NULL))
            return state_in_invalid(in, error, _("xHCI port %u: another device was saved"), p + 1);
        if (!present) {
            x->portsc[p] &= ~(PORT_CCS | PORT_PED);
            continue;
        }
        if (!load_pipe(x->dev[p], in, error) || !x->dev[p]->ops->load(x->dev[p], in, error))
            return false;
    }
    return true;
}

static bool load_controller(struct xhci *x, struct state_in *in, GError **error)
{
    x->usbcmd = state_in_u32(in) & CMD_MASK;
    x->usbsts = state_in_u32(in) & (STS_HCH | STS_W1C | STS_HCE);
    x->dnctrl = state_in_u32(in) & 0xffff;
    x->config = state_in_u32(in) & 0x3ff;
    x->dcbaap = state_in_u64(in) & ~0x3full;
    x->cmd_dequeue = state_in_u64(in) & ~0xfull;
    x->cmd_ccs = state_in_bool(in);
    x->crr = state_in_bool(in);
    x->iman = state_in_u32(in) & (IMAN_IP | IMAN_IE);
    x->imod = state_in_u32(in);
    x->erstsz = state_in_u32(in) & 0xffff;
    x->erstba = state_in_u64(in) & ~0x3full;
    x->erdp = state_in_u64(in);
    x->erst_valid = state_in_bool(in);
    for (unsigned i = 0; i < ERST_MAX; i++) {
        x->seg[i].base = state_in_u64(in);
        x->seg[i].size = state_in_u32(in);
    }
    x->ev_seg = state_in_u32(in);
    x->ev_idx = state_in_u32(in);
    x->ev_pcs = state_in_bool(in);
    x->ev_full = state_in_bool(in);
    x->ev_full_erdp = state_in_u64(in);
    x->intr_pending = state_in_bool(in);
    if ((x->config & 0xff) > XHCI_SLOTS)
        return state_in_invalid(in, error, _("xHCI slots enabled"));
    if (x->erst_valid) {
        if (x->erstsz == 0 || x->erstsz > ERST_MAX || x->ev_seg >= x->erstsz)
            return state_in_invalid(in, error, _("xHCI event ring"));
        for (unsigned i = 0; i < x->erstsz; i++)
            if (x->seg[i].size < ERST_SEG_MIN || x->seg[i].size > ERST_SEG_MAX ||
                (x->seg[i].base & 0x3f))
                return state_in_invalid(in, error, _("xHCI event ring segment %u"), i);
        if (x->ev_idx >= x->seg[x->ev_seg].size)
            return state_in_invalid(in, error, _("xHCI event ring"));
    }
    return load_slots(x, in, error) && load_ports(x, in, error);
}

static bool xhci_load(struct pci_device *dev, struct state_in *in, uint32_t version,
                      GError **error)
{
    struct xhci *x = dev->opaque;
    (void)version;
    g_mutex_lock(&x->lock);
    bool ok = load_controller(x, in, error);
    if (ok && in->short_read)
        ok = state_in_invalid(in, error, _("truncated"));
    if (!ok)
        controller_reset(x);
    else if (x->usbcmd & CMD_RS)
        x->run_start = g_get_monotonic_time();
    g_mutex_unlock(&x->lock);
    if (ok)
        ok = pci_msix_load(&x->msix, in, error);
    g_mutex_lock(&x->lock);
    update_intx(x);
    g_mutex_unlock(&x->lock);
    return ok;
}

static const struct pci_state_ops xhci_state_ops = {
    .version = 1, .save = xhci_save, .load = xhci_load,
};

/* ---- creation ------------------------------------------------------------------ */

struct xhci *xhci_create(struct vm *vm, struct pci_bus *bus, GError **error)
{
    struct xhci *x = g_new0(struct xhci, 1);
    x->vm = vm;
    g_mutex_init(&x->lock);
    struct pci_device *d = &x->pci;
    /* QEMU's qemu-xhci IDs; drivers bind by the class (0C0330). */
    pci_device_init(d, "qemu-xhci", 0x1b36, 0x000d, 0x0c0330, 0x01, 1);
    pci_device_set_subsystem(d, 0x1af4, 0x1100);
    d->config[0x60] = 0x30;                 /* SBRN: USB 3.0 */
    d->config[0x61] = 0x20;                 /* FLADJ: 60000 clocks per frame */
    d->wmask[0x61] = 0x3f;
    x->msi = pci_device_add_capability(d, PCI_CAP_ID_MSI, 14);
    g_assert(x->msi);
    pci_set_word(&d->config[x->msi + MSI_CTRL], MSI_CTRL_64BIT);
    d->wmask[x->msi + MSI_CTRL] = MSI_CTRL_ENABLE;
    for (unsigned i = 0; i < 8; i++)
        d->wmask[x->msi + MSI_ADDR + i] = 0xff;
    d->wmask[x->msi + MSI_ADDR] = 0xfc;
    d->wmask[x->msi + MSI_DATA] = 0xff;
    d->wmask[x->msi + MSI_DATA + 1] = 0xff;
    pci_device_set_bar(d, 0, PCI_BAR_MEM64, false, BAR_SIZE, &xhci_mmio_ops, x);
    d->opaque = x;
    d->state = &xhci_state_ops;
    d->config_written = config_written;
    if (!pci_msix_init(&x->msix, d, vm, 1, MSIX_BAR, error)) {
        g_mutex_clear(&x->lock);
        g_free(x);
        return NULL;
    }
    controller_reset(x);
    if (!pci_register_device(bus, d, error)) {
        pci_msix_destroy(&x->msix);
        g_mutex_clear(&x->lock);
        g_free(x);
        return NULL;
    }
    vm_add_reset_handler(vm, platform_reset, x);
    return x;
}

void xhci_free(struct xhci *x)
{
    if (!x)
        return;
    pci_unregister_device(&x->pci);
    pci_msix_destroy(&x->msix);
    for (unsigned p = 0; p < XHCI_PORTS; p++) {
        usb_hid_tablet_free(x->tablet[p]);
        usb_hid_keyboard_free(x->keyboard[p]);
    }
    g_mutex_clear(&x->lock);
    g_free(x);
}

/* Remote wakeup: a suspended USB 2 port resumes and tells the driver. */
static void device_wakeup(struct usb_device *dev)
{
    struct xhci *x = dev->controller;
    g_mutex_lock(&x->lock);
    for (unsigned p = 0; p < XHCI_PORTS; p++) {
        if (x->dev[p] != dev || !(x->portsc[p] & PORT_PED) ||
            ((x->portsc[p] & PORT_PLS) >> PORT_PLS_SHIFT) != PLS_U3)
            continue;
        x->portsc[p] = (x->portsc[p] & ~PORT_PLS) | PLS_RESUME << PORT_PLS_SHIFT;
        port_set_change(x, p, PORT_PLC);
    }
    g_mutex_unlock(&x->lock);
}

bool xhci_attach(struct xhci *x, unsigned port, struct usb_device *dev, GError **error)
{
    if (port >= XHCI_PORTS_USB2) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("The xHCI controller has no USB 2 port %u"), port + 1);
        return false;
    }
    g_mutex_lock(&x->lock);
    if (x->dev[port]) {
        g_mutex_unlock(&x->lock);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    _("xHCI port %u is already in use"), port + 1);
        return false;
    }
    x->dev[port] = dev;
    dev->controller = x;
    dev->wakeup = device_wakeup;
    dev->data_ready = device_data_ready;
    device_bus_reset(dev);
    port_init(x, port);
    g_mutex_unlock(&x->lock);
    return true;
}

struct usb_hid_tablet *xhci_attach_tablet(struct xhci *x, unsigned port,
                                          struct input_router *router, GError **error)
{
    struct usb_hid_tablet *t = usb_hid_tablet_new(router);
    if (!xhci_attach(x, port, usb_hid_tablet_device(t), error)) {
        usb_hid_tablet_free(t);
        return NULL;
    }
    x->tablet[port] = t;
    return t;
}

struct usb_hid_keyboard *xhci_attach_keyboard(struct xhci *x, unsigned port,
                                              struct input_router *router, GError **error)
{
    struct usb_hid_keyboard *k = usb_hid_keyboard_new(router);
    if (!xhci_attach(x, port, usb_hid_keyboard_device(k), error)) {
        usb_hid_keyboard_free(k);
        return NULL;
    }
    x->keyboard[port] = k;
    return k;
}

struct pci_device *xhci_pci_device(struct xhci *x)
{
    return &x->pci;
}
