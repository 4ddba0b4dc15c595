/* Human-readable labels for libvirt domain states. */
#pragma once

#include <libvirt/libvirt.h>

const char *oriel_domain_state_label (int state);
