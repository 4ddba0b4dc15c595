/* The new-VM assistant: source, OS, resources, storage, name and summary. */
#pragma once

#include <gtk/gtk.h>
#include "connection.h"

G_BEGIN_DECLS

typedef struct _OrielApplication OrielApplication;

#define ORIEL_TYPE_NEW_VM_WIZARD (oriel_new_vm_wizard_get_type ())
G_DECLARE_FINAL_TYPE (OrielNewVmWizard, oriel_new_vm_wizard, ORIEL, NEW_VM_WIZARD, GtkAssistant)

GtkWidget *oriel_new_vm_wizard_new (OrielApplication *app, OrielConnection *conn);

G_END_DECLS
