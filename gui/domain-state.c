/* Human-readable labels for libvirt domain states. */
#include "domain-state.h"

#include <glib/gi18n.h>

const char *
oriel_domain_state_label (int state)
{
  switch (state)
    {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED:
      return _("Running");
    case VIR_DOMAIN_PAUSED:
      return _("Paused");
    case VIR_DOMAIN_SHUTDOWN:
      return _("Shutting down");
    case VIR_DOMAIN_SHUTOFF:
      return _("Shut off");
    case VIR_DOMAIN_CRASHED:
      return _("Crashed");
    case VIR_DOMAIN_PMSUSPENDED:
      return _("Suspended");
    case VIR_DOMAIN_NOSTATE:
    default:
      return _("Unknown");
    }
}
