/* A NIC as the user configured it (--net user[,hostfwd=tcp::HP-:GP][,mac=M]
 * [,model=virtio|e1000|e1000e] or --net tap=IFNAME[,mac=M][,model=...]); the options
 * parser fills it, net_backend_open() and the NIC models consume it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

enum net_backend_kind {
    NET_BACKEND_USER,   /* libslirp user-mode NAT */
    NET_BACKEND_TAP,    /* a host tap interface */
};

enum net_model {
    NET_MODEL_VIRTIO,
    NET_MODEL_E1000,
    NET_MODEL_E1000E,
};

/* hostfwd=tcp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT */
struct net_hostfwd {
    bool udp;                   /* false: tcp */
    char host_addr[64];         /* "" = every host address (0.0.0.0) */
    uint16_t host_port;
    char guest_addr[64];        /* "" = the first DHCP address (10.0.2.15) */
    uint16_t guest_port;
};

#define NET_MAX_HOSTFWD 16

struct net_config {
    enum net_backend_kind backend;
    char *tap_ifname;           /* NET_BACKEND_TAP; owned (g_free) */
    struct net_hostfwd hostfwd[NET_MAX_HOSTFWD];
    unsigned n_hostfwd;
    bool mac_set;               /* false: a locally administered MAC is made up */
    uint8_t mac[6];
    enum net_model model;
};

static inline void net_config_clear(struct net_config *c)
{
    g_free(c->tap_ifname);
    *c = (struct net_config){ 0 };
}
