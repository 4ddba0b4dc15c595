/* Human-readable labels for libvirt domain states. */
#pragma once

#include <libvirt/libvirt.h>

const char *oriel_domain_state_label (int state);
/* State of dom, or -1 if it cannot be read. */
int oriel_domain_get_state (virDomainPtr dom);
