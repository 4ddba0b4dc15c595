/* The new-VM assistant: source, safety checks (the Windows installed on
 * this computer), OS, resources, storage, name and summary. */
#include "new-vm-wizard.h"
#include "domain-xml-builder.h"
#include "dualboot-choice.h"
#include "error-dialog.h"
#include "oriel-application.h"
#include "os-defaults.h"
#include "physical-disk-scanner.h"

#include <glib/gi18n.h>
#include <libvirt/virterror.h>

/* PAGE_CHECKS is shown only for the Windows installed on this computer. */
enum { PAGE_SOURCE, PAGE_CHECKS, PAGE_OS, PAGE_RESOURCES, PAGE_STORAGE, PAGE_FINISH };
enum { OS_COL_NAME, OS_COL_ID, OS_COL_SHORT_ID, OS_COL_OBJECT, OS_N_COLS };
enum { PD_COL_NAME, PD_COL_SIZE, PD_COL_FS, PD_COL_NOTE, PD_COL_DEVICE, PD_COL_IS_DISK, PD_N_COLS };

#define MAX_RECENT_ISOS 8

struct _OrielNewVmWizard {
  GtkAssistant parent_instance;

  OrielApplication *app;
  OrielConnection *conn;

  GtkWidget *source_page, *checks_page, *os_page, *resources_page, *storage_page, *finish_page;
  GtkToggleButton *iso_radio, *import_radio, *kernel_radio, *physical_radio, *windows_radio;
  GtkStack *source_stack;
  GtkEntry *iso_entry, *import_entry, *kernel_entry, *initrd_entry, *cmdline_entry;
  GtkWidget *iso_browse, *import_browse, *kernel_browse, *initrd_browse;
  GtkComboBoxText *recent_combo;
  GtkTreeView *physical_view;
  GtkLabel *source_error;
  GtkSpinner *windows_spinner;
  GtkLabel *windows_status;
  GtkListBox *windows_list;
  GtkWidget *windows_rescan;
  GtkLabel *checks_title, *checks_error;
  GtkBox *checks_box;
  GtkToggleButton *bitlocker_check, *trial_radio, *real_radio;
  GtkLabel *os_detected, *os_selected;
  GtkSearchEntry *os_search;
  GtkTreeView *os_view;
  GtkSpinButton *memory_spin, *vcpu_spin, *disk_spin;
  GtkLabel *memory_hint, *vcpu_hint, *resources_error;
  GtkToggleButton *storage_check;
  GtkLabel *storage_hint, *storage_error;
  GtkEntry *name_entry;
  GtkComboBoxText *network_combo;
  GtkToggleButton *customize_check;
  GtkLabel *summary_label, *finish_error;

  OsinfoDb *os_db;
  GtkListStore *os_store;
  GtkTreeModel *os_filter;
  char *detected_for_iso;   /* ISO path the detection ran on */
  OsinfoOs *detected_os;
  OsinfoOs *chosen_os;      /* NULL: generic */
  OrielOsDefaults hw;
  gboolean name_edited;
  gboolean filling;         /* suppress change handlers while we set values */
  gboolean finished;
  gboolean creating;     /* Finish is running in a worker */
  gboolean gone;         /* disposed while it ran */

  guint64 host_memory_mib;
  guint host_cpus;
  char *pool_name;
  guint64 pool_free_bytes;
  char *conn_type;       /* virConnectGetType(), once the host facts are in */
  char **networks;       /* active libvirt networks, likewise */

  GPtrArray *candidates; /* OrielDualbootCandidate*, NULL until the scan is done */
  gboolean host_secure_boot; /* this computer booted with Secure Boot on */
  gboolean scanning;
};

G_DEFINE_TYPE (OrielNewVmWizard, oriel_new_vm_wizard, GTK_TYPE_ASSISTANT)

static gboolean
connection_is_local (OrielNewVmWizard *self)
{
  g_autoptr (GUri) uri = g_uri_parse (oriel_connection_get_uri (self->conn), G_URI_FLAGS_NONE, NULL);
  const char *host = uri != NULL ? g_uri_get_host (uri) : NULL;

  return host == NULL || *host == '\0' || g_str_equal (host, "localhost");
}

static OrielSourceKind
source_kind (OrielNewVmWizard *self)
{
  if (gtk_toggle_button_get_active (self->import_radio))
    return ORIEL_SOURCE_IMPORT;
  if (gtk_toggle_button_get_active (self->kernel_radio))
    return ORIEL_SOURCE_KERNEL;
  if (gtk_toggle_button_get_active (self->physical_radio))
    return ORIEL_SOURCE_PHYSICAL;
  if (gtk_toggle_button_get_active (self->windows_radio))
    return ORIEL_SOURCE_DUALBOOT;
  return ORIEL_SOURCE_ISO;
}

static const char *
entry_text (GtkEntry *entry)
{
  const char *text = gtk_entry_get_text (entry);

  while (text != NULL && g_ascii_isspace (*text))
    text++;
  return text != NULL && *text ? text : NULL;
}

static char *
selected_physical_device (OrielNewVmWizard *self)
{
  GtkTreeModel *model;
  GtkTreeIter iter, parent;
  char *device = NULL;

  if (!gtk_tree_selection_get_selected (gtk_tree_view_get_selection (self->physical_view), &model, &iter))
    return NULL;
  /* A partition row selects its whole disk: the guest needs the partition table. */
  if (gtk_tree_model_iter_parent (model, &parent, &iter))
    iter = parent;
  gtk_tree_model_get (model, &iter, PD_COL_DEVICE, &device, -1);
  return device;
}

/* The Windows installation chosen in the list, or NULL. */
static const OrielDualbootCandidate *
selected_candidate (OrielNewVmWizard *self)
{
  GtkListBoxRow *row = gtk_list_box_get_selected_row (self->windows_list);
  int index = row != NULL ? gtk_list_box_row_get_index (row) : -1;

  if (self->candidates == NULL || index < 0 || (guint) index >= self->candidates->len)
    return NULL;
  return self->candidates->pdata[index];
}

static OrielDualbootMode
dualboot_mode (OrielNewVmWizard *self)
{
  return gtk_toggle_button_get_active (self->real_radio) ? ORIEL_DUALBOOT_MODE_REAL : ORIEL_DUALBOOT_MODE_TRIAL;
}

static void
set_error (GtkLabel *label, const char *text)
{
  g_autofree char *markup = NULL;

  if (text == NULL)
    {
      gtk_label_set_text (label, "");
      return;
    }
  markup = g_markup_printf_escaped ("<span foreground=\"#c01c28\">⚠ %s</span>", text);
  gtk_label_set_markup (label, markup);
}

/* Checks a path the user typed, when the connection is on this machine. */
static const char *
check_file (OrielNewVmWizard *self, const char *path, const char *missing)
{
  if (path == NULL)
    return missing;
  if (!connection_is_local (self))
    return NULL;
  if (!g_path_is_absolute (path))
    return _("Enter an absolute path (starting with “/”).");
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return _("The file does not exist.");
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    return _("This is a folder, not a file.");
  return NULL;
}

static const char *
validate_source (OrielNewVmWizard *self)
{
  const char *problem = NULL;
  g_autofree char *device = NULL;

  switch (source_kind (self))
    {
    case ORIEL_SOURCE_ISO:
      problem = check_file (self, entry_text (self->iso_entry), _("Choose an installer ISO image."));
      break;
    case ORIEL_SOURCE_IMPORT:
      problem = check_file (self, entry_text (self->import_entry), _("Choose the disk image to import."));
      break;
    case ORIEL_SOURCE_KERNEL:
      problem = check_file (self, entry_text (self->kernel_entry), _("Choose the kernel to boot."));
      if (problem == NULL && entry_text (self->initrd_entry) != NULL)
        {
          problem = check_file (self, entry_text (self->initrd_entry), NULL);
          if (problem != NULL)
            problem = _("The initrd file does not exist.");
        }
      break;
    case ORIEL_SOURCE_PHYSICAL:
      device = selected_physical_device (self);
      if (device == NULL)
        problem = _("Choose the physical disk.");
      break;
    case ORIEL_SOURCE_DUALBOOT:
      if (!connection_is_local (self))
        problem = _("Windows on this computer’s disks can be used only with a connection to this computer.");
      else if (self->candidates == NULL)
        problem = _("Still looking for Windows installations…");
      else if (self->candidates->len == 0)
        problem = _("No Windows installation was found on this computer’s disks.");
      else if (selected_candidate (self) == NULL)
        problem = _("Choose the Windows installation.");
      break;
    default:
      break;
    }
  return problem;
}

/* The checks page: a refusal, or real mode a check refuses, or a
 * confirmation not given, keeps the assistant here. */
static char *
validate_checks (OrielNewVmWizard *self)
{
  const OrielDualbootCandidate *c = selected_candidate (self);
  const OrielSafetyCheck *blocking;

  if (source_kind (self) != ORIEL_SOURCE_DUALBOOT)
    return NULL;
  if (c == NULL)
    return g_strdup (_("Choose the Windows installation."));
  blocking = oriel_dualboot_first_blocking (c, dualboot_mode (self),
                                            gtk_toggle_button_get_active (self->bitlocker_check));
  if (blocking == NULL)
    return NULL;
  if (blocking->verdict == ORIEL_CHECK_CONFIRM)
    return g_strdup (_("Confirm that you have the BitLocker recovery key."));
  if (blocking->verdict == ORIEL_CHECK_REFUSE_REAL)
    return g_strdup_printf (_("Real mode is not possible: %s"), blocking->message);
  return g_strdup_printf (_("This Windows installation cannot be started: %s"), blocking->message);
}

static const char *
validate_resources (OrielNewVmWizard *self)
{
  guint64 mem = (guint64) gtk_spin_button_get_value_as_int (self->memory_spin);
  guint cpus = (guint) gtk_spin_button_get_value_as_int (self->vcpu_spin);

  if (self->host_memory_mib > 0 && mem > self->host_memory_mib)
    return _("The memory size is larger than the host’s memory.");
  if (self->host_cpus > 0 && cpus > self->host_cpus)
    return _("There are more virtual CPUs than the host has CPUs.");
  if (mem < 64)
    return _("Less than 64 MiB is too little for any current operating system.");
  return NULL;
}

static gboolean
creates_disk (OrielNewVmWizard *self)
{
  OrielSourceKind kind = source_kind (self);

  return (kind == ORIEL_SOURCE_ISO || kind == ORIEL_SOURCE_KERNEL)
         && self->pool_name != NULL && gtk_toggle_button_get_active (self->storage_check);
}

static const char *
validate_storage (OrielNewVmWizard *self)
{
  guint64 want = (guint64) gtk_spin_button_get_value_as_int (self->disk_spin) * 1024 * 1024 * 1024;

  if (!creates_disk (self))
    return NULL;
  /* Images are allocated sparsely, so only warn when the pool could
   * never hold the whole disk. */
  if (self->pool_free_bytes > 0 && want > self->pool_free_bytes)
    return _("The storage pool does not have that much free space.");
  return NULL;
}

static const char *
validate_finish (OrielNewVmWizard *self)
{
  const char *name = entry_text (self->name_entry);

  if (name == NULL)
    return _("Enter a name for the virtual machine.");
  if (strchr (name, '/') != NULL)
    return _("The name may not contain “/”.");
  /* The connection's model knows every name: no round trip per key. */
  if (oriel_connection_find_domain_by_name (self->conn, name) != NULL)
    return _("A virtual machine with this name already exists.");
  if (source_kind (self) == ORIEL_SOURCE_DUALBOOT)
    {
      g_autofree char *blocked = validate_checks (self);
      if (blocked != NULL)
        return _("A safety check does not allow this Windows installation to start (see Safety Checks).");
    }
  return NULL;
}

static void
validate_page (OrielNewVmWizard *self, int page)
{
  const char *problem = NULL;
  g_autofree char *owned = NULL;
  GtkLabel *label = NULL;
  GtkWidget *widget = NULL;

  switch (page)
    {
    case PAGE_CHECKS:
      problem = owned = validate_checks (self);
      label = self->checks_error;
      widget = self->checks_page;
      break;
    case PAGE_SOURCE:
      problem = validate_source (self);
      label = self->source_error;
      widget = self->source_page;
      break;
    case PAGE_OS:
      widget = self->os_page;
      break;
    case PAGE_RESOURCES:
      problem = validate_resources (self);
      label = self->resources_error;
      widget = self->resources_page;
      break;
    case PAGE_STORAGE:
      problem = validate_storage (self);
      label = self->storage_error;
      widget = self->storage_page;
      break;
    case PAGE_FINISH:
      problem = validate_finish (self);
      label = self->finish_error;
      widget = self->finish_page;
      break;
    default:
      return;
    }
  if (label != NULL)
    set_error (label, problem);
  gtk_assistant_set_page_complete (GTK_ASSISTANT (self), widget, problem == NULL);
}

static void
field_changed (GtkWidget *widget, OrielNewVmWizard *self)
{
  if (self->filling)
    return;
  if (widget == GTK_WIDGET (self->name_entry))
    self->name_edited = TRUE;
  if (widget == GTK_WIDGET (self->storage_check))
    gtk_widget_set_sensitive (GTK_WIDGET (self->disk_spin),
                              gtk_toggle_button_get_active (self->storage_check));
  validate_page (self, gtk_assistant_get_current_page (GTK_ASSISTANT (self)));
}

static void
source_kind_toggled (GtkToggleButton *button, OrielNewVmWizard *self)
{
  static const char *const pages[] = { "iso", "import", "kernel", "physical", "windows" };

  if (!gtk_toggle_button_get_active (button))
    return;
  gtk_stack_set_visible_child_name (self->source_stack, pages[source_kind (self)]);
  validate_page (self, PAGE_SOURCE);
}

static void
recent_changed (GtkComboBox *combo, OrielNewVmWizard *self)
{
  g_autofree char *path = gtk_combo_box_text_get_active_text (GTK_COMBO_BOX_TEXT (combo));

  if (path != NULL)
    gtk_entry_set_text (self->iso_entry, path);
}

static void
browse_response (GtkNativeDialog *chooser, int response, GtkEntry *target)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autofree char *path = gtk_file_chooser_get_filename (GTK_FILE_CHOOSER (chooser));
      if (path != NULL)
        gtk_entry_set_text (target, path);
    }
  g_object_unref (chooser);
}

static void
browse_clicked (GtkButton *button, OrielNewVmWizard *self)
{
  GtkEntry *target;
  const char *title;
  GtkFileChooserNative *chooser;
  GtkFileFilter *filter = NULL;

  if (button == GTK_BUTTON (self->iso_browse))
    {
      target = self->iso_entry;
      title = _("Choose an Installer ISO Image");
      filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (filter, _("ISO images"));
      gtk_file_filter_add_pattern (filter, "*.iso");
      gtk_file_filter_add_pattern (filter, "*.ISO");
    }
  else if (button == GTK_BUTTON (self->import_browse))
    {
      target = self->import_entry;
      title = _("Choose a Disk Image");
    }
  else if (button == GTK_BUTTON (self->kernel_browse))
    {
      target = self->kernel_entry;
      title = _("Choose a Kernel");
    }
  else
    {
      target = self->initrd_entry;
      title = _("Choose an Initrd");
    }
  /* Shown without a nested main loop; the entry outlives the dialog
   * because the dialog is modal to the assistant. */
  chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN,
                                         _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (filter != NULL)
    gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_signal_connect (chooser, "response", G_CALLBACK (browse_response), target);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* ---- OS page ---- */

static gint
compare_os_names (gconstpointer a, gconstpointer b)
{
  OsinfoOs *oa = *(OsinfoOs **) a, *ob = *(OsinfoOs **) b;
  return g_utf8_collate (osinfo_product_get_name (OSINFO_PRODUCT (oa)),
                         osinfo_product_get_name (OSINFO_PRODUCT (ob)));
}

static gboolean
os_visible (GtkTreeModel *model, GtkTreeIter *iter, gpointer data)
{
  OrielNewVmWizard *self = data;
  const char *needle = gtk_entry_get_text (GTK_ENTRY (self->os_search));
  g_autofree char *name = NULL, *short_id = NULL, *hay = NULL, *folded = NULL;

  if (needle == NULL || *needle == '\0')
    return TRUE;
  gtk_tree_model_get (model, iter, OS_COL_NAME, &name, OS_COL_SHORT_ID, &short_id, -1);
  hay = g_strdup_printf ("%s %s", name ? name : "", short_id ? short_id : "");
  folded = g_utf8_casefold (hay, -1);
  {
    g_autofree char *n = g_utf8_casefold (needle, -1);
    return strstr (folded, n) != NULL;
  }
}

static void
load_os_list (OrielNewVmWizard *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (OsinfoOsList) list = NULL;
  g_autoptr (GPtrArray) sorted = NULL;
  GtkTreeIter iter;
  gint n;

  if (self->os_store != NULL)
    return;
  self->os_store = gtk_list_store_new (OS_N_COLS, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
                                       G_TYPE_OBJECT);
  gtk_list_store_insert_with_values (self->os_store, &iter, -1,
                                     OS_COL_NAME, _("Generic or unknown operating system"),
                                     OS_COL_ID, NULL, OS_COL_SHORT_ID, "generic", -1);
  self->os_db = oriel_os_db_load (&error);
  if (self->os_db == NULL)
    gtk_label_set_text (self->os_detected, error->message);
  else
    {
      list = osinfo_db_get_os_list (self->os_db);
      n = osinfo_list_get_length (OSINFO_LIST (list));
      sorted = g_ptr_array_sized_new (n);
      for (gint i = 0; i < n; i++)
        g_ptr_array_add (sorted, osinfo_list_get_nth (OSINFO_LIST (list), i));
      g_ptr_array_sort (sorted, compare_os_names);
      for (guint i = 0; i < sorted->len; i++)
        {
          OsinfoProduct *os = sorted->pdata[i];
          gtk_list_store_insert_with_values (self->os_store, &iter, -1,
                                             OS_COL_NAME, osinfo_product_get_name (os),
                                             OS_COL_ID, osinfo_entity_get_id (OSINFO_ENTITY (os)),
                                             OS_COL_SHORT_ID, osinfo_product_get_short_id (os),
                                             OS_COL_OBJECT, os,
                                             -1);
        }
    }
  self->os_filter = gtk_tree_model_filter_new (GTK_TREE_MODEL (self->os_store), NULL);
  gtk_tree_model_filter_set_visible_func (GTK_TREE_MODEL_FILTER (self->os_filter), os_visible, self, NULL);
  gtk_tree_view_set_model (self->os_view, self->os_filter);
}

static void
os_search_changed (GtkSearchEntry *entry, OrielNewVmWizard *self)
{
  if (self->os_filter != NULL)
    gtk_tree_model_filter_refilter (GTK_TREE_MODEL_FILTER (self->os_filter));
}


/* ", Secure Boot, TPM 2.0, Hyper-V" for what the OS's platform adds. */
static const char *
platform_text (const OrielOsDefaults *hw)
{
  if (hw->secure_boot && hw->tpm)
    return _(", Secure Boot, TPM 2.0");
  if (hw->secure_boot)
    return _(", Secure Boot");
  if (hw->tpm)
    return _(", TPM 2.0");
  return "";
}

/* The installation on the disk decides the platform: its firmware (UEFI
 * with Q35 and SMM, or BIOS), the controller its boot driver needs, and
 * what Windows expects (Hyper-V enlightenments, e1000e, an xHCI tablet).
 * Secure Boot as this computer boots (the ESP may hold loaders only it
 * trusts).  The TPM follows the chosen OS's defaults (Windows 11 has one). */
static void
apply_dualboot_platform (OrielNewVmWizard *self, OrielOsDefaults *hw)
{
  const OrielDualbootCandidate *c = selected_candidate (self);

  if (source_kind (self) != ORIEL_SOURCE_DUALBOOT || c == NULL)
    return;
  hw->family = ORIEL_OS_FAMILY_WINDOWS;
  hw->secure_boot = FALSE;
  if (g_strcmp0 (c->disk->firmware, "bios") == 0)
    hw->firmware = ORIEL_FIRMWARE_BIOS;
  else
    {
      hw->firmware = ORIEL_FIRMWARE_UEFI;
      hw->machine = ORIEL_MACHINE_Q35;
      hw->secure_boot = self->host_secure_boot;
    }
  hw->disk_bus = oriel_dualboot_disk_bus (c);
  hw->hyperv = TRUE;
  hw->nic_model = ORIEL_NIC_E1000E;
  hw->usb = ORIEL_USB_XHCI;
  hw->usb_tablet = TRUE;
}

static void
apply_os_defaults (OrielNewVmWizard *self)
{
  g_autofree char *text = NULL;

  if (self->chosen_os != NULL)
    oriel_os_defaults_for_os (self->chosen_os, &self->hw);
  else
    oriel_os_defaults_for_family (source_kind (self) == ORIEL_SOURCE_KERNEL
                                  ? ORIEL_OS_FAMILY_LINUX : ORIEL_OS_FAMILY_OTHER, &self->hw);
  apply_dualboot_platform (self, &self->hw);
  /* Keep suggestions inside what the host can give. */
  if (self->host_memory_mib > 0)
    self->hw.memory_mib = MIN (self->hw.memory_mib, MAX (self->host_memory_mib / 2, 256));
  if (self->host_cpus > 0)
    self->hw.vcpus = MIN (self->hw.vcpus, self->host_cpus);

  self->filling = TRUE;
  gtk_spin_button_set_value (self->memory_spin, (double) self->hw.memory_mib);
  gtk_spin_button_set_value (self->vcpu_spin, (double) self->hw.vcpus);
  gtk_spin_button_set_value (self->disk_spin, (double) self->hw.disk_gib);
  self->filling = FALSE;

  text = g_strdup_printf (_("Defaults: %s disk bus, %s network card, %s firmware%s%s."),
                          oriel_disk_bus_name (self->hw.disk_bus),
                          oriel_nic_model_name (self->hw.nic_model),
                          self->hw.firmware == ORIEL_FIRMWARE_UEFI ? "UEFI" : "BIOS",
                          self->hw.usb_tablet ? _(", USB tablet") : "",
                          platform_text (&self->hw));
  gtk_label_set_text (self->os_selected, text);
}

static void
os_selection_changed (GtkTreeSelection *sel, OrielNewVmWizard *self)
{
  GtkTreeModel *model;
  GtkTreeIter iter;
  g_autoptr (GObject) os = NULL;

  if (!gtk_tree_selection_get_selected (sel, &model, &iter))
    return;
  gtk_tree_model_get (model, &iter, OS_COL_OBJECT, &os, -1);
  g_clear_object (&self->chosen_os);
  self->chosen_os = os != NULL ? OSINFO_OS (g_object_ref (os)) : NULL;
  apply_os_defaults (self);
}

static void
select_os (OrielNewVmWizard *self, const char *id)
{
  GtkTreeIter iter;
  gboolean valid;

  gtk_entry_set_text (GTK_ENTRY (self->os_search), "");
  gtk_tree_model_filter_refilter (GTK_TREE_MODEL_FILTER (self->os_filter));
  valid = gtk_tree_model_get_iter_first (self->os_filter, &iter);
  while (valid)
    {
      g_autofree char *row_id = NULL;
      gtk_tree_model_get (self->os_filter, &iter, OS_COL_ID, &row_id, -1);
      if (g_strcmp0 (row_id, id) == 0)
        {
          g_autoptr (GtkTreePath) path = gtk_tree_model_get_path (self->os_filter, &iter);
          gtk_tree_selection_select_iter (gtk_tree_view_get_selection (self->os_view), &iter);
          gtk_tree_view_scroll_to_cell (self->os_view, path, NULL, TRUE, 0.3, 0.0);
          return;
        }
      valid = gtk_tree_model_iter_next (self->os_filter, &iter);
    }
}

/* Newest generic Linux entry in the database, for kernel boot. */
static const char *
generic_linux_id (OrielNewVmWizard *self)
{
  static const char *const candidates[] = {
    "http://libosinfo.org/linux/2024", "http://libosinfo.org/linux/2022",
    "http://libosinfo.org/linux/2020", "http://libosinfo.org/linux/2018", NULL,
  };

  for (guint i = 0; self->os_db != NULL && candidates[i]; i++)
    if (osinfo_db_get_os (self->os_db, candidates[i]) != NULL)
      return candidates[i];
  return NULL;
}

static void
prepare_os_page (OrielNewVmWizard *self)
{
  const char *iso = entry_text (self->iso_entry);
  OrielSourceKind kind = source_kind (self);

  load_os_list (self);
  if (kind == ORIEL_SOURCE_ISO && g_strcmp0 (iso, self->detected_for_iso) != 0)
    {
      g_autoptr (GError) error = NULL;

      g_free (self->detected_for_iso);
      self->detected_for_iso = g_strdup (iso);
      g_clear_object (&self->detected_os);
      if (self->os_db != NULL && iso != NULL && connection_is_local (self))
        self->detected_os = oriel_os_detect_media (self->os_db, iso, &error);
      if (self->detected_os != NULL)
        {
          g_autofree char *text = g_strdup_printf (_("Detected from the installer: %s. Choose another below if this is wrong."),
                                                   osinfo_product_get_name (OSINFO_PRODUCT (self->detected_os)));
          gtk_label_set_text (self->os_detected, text);
          select_os (self, osinfo_entity_get_id (OSINFO_ENTITY (self->detected_os)));
        }
      else
        {
          gtk_label_set_text (self->os_detected,
                              _("The operating system on the installer was not recognised. Choose it from the list."));
          select_os (self, NULL);
        }
    }
  else if (kind == ORIEL_SOURCE_DUALBOOT && selected_candidate (self) != NULL)
    {
      const OrielDualbootCandidate *c = selected_candidate (self);
      g_autofree char *windows = oriel_dualboot_describe_windows (c->disk);
      g_autofree char *text = g_strdup_printf (_("Found on the disk: %s. Choose another version below if this is wrong."),
                                               windows);

      gtk_label_set_text (self->os_detected, text);
      /* Picked again for each installation chosen on the source page. */
      select_os (self, oriel_dualboot_osinfo_id (c->disk));
      apply_os_defaults (self);
    }
  else if (kind != ORIEL_SOURCE_ISO)
    {
      gtk_label_set_text (self->os_detected, _("Choose the operating system the virtual machine will run."));
      if (gtk_tree_selection_count_selected_rows (gtk_tree_view_get_selection (self->os_view)) == 0)
        select_os (self, kind == ORIEL_SOURCE_KERNEL ? generic_linux_id (self)
                         : kind == ORIEL_SOURCE_PHYSICAL ? "http://microsoft.com/win/10" : NULL);
    }
  if (gtk_tree_selection_count_selected_rows (gtk_tree_view_get_selection (self->os_view)) == 0)
    select_os (self, NULL);
}

/* ---- safety checks of the Windows installed on this computer ---- */

static const char *
verdict_icon (OrielCheckVerdict verdict)
{
  switch (verdict)
    {
    case ORIEL_CHECK_PASS: return "emblem-ok-symbolic";
    case ORIEL_CHECK_WARN: return "dialog-warning-symbolic";
    case ORIEL_CHECK_CONFIRM: return "dialog-question-symbolic";
    case ORIEL_CHECK_REFUSE_REAL:
    case ORIEL_CHECK_REFUSE:
    default: return "dialog-error-symbolic";
    }
}

static const char *
verdict_label (OrielCheckVerdict verdict)
{
  switch (verdict)
    {
    case ORIEL_CHECK_PASS: return _("Passed");
    case ORIEL_CHECK_WARN: return _("Warning");
    case ORIEL_CHECK_CONFIRM: return _("Needs your confirmation");
    case ORIEL_CHECK_REFUSE_REAL: return _("Refused in real mode");
    case ORIEL_CHECK_REFUSE:
    default: return _("Refused");
    }
}

static GtkWidget *
wrapped_label (const char *text, gboolean dim)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 80);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_set_can_focus (label, FALSE);
  if (dim)
    gtk_style_context_add_class (gtk_widget_get_style_context (label), "dim-label");
  return label;
}

/* One row per check: its verdict as an icon (named for screen readers),
 * the message, and what to do about it. */
static GtkWidget *
check_row (const OrielSafetyCheck *check)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 10);
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *icon = gtk_image_new_from_icon_name (verdict_icon (check->verdict), GTK_ICON_SIZE_LARGE_TOOLBAR);
  GtkWidget *message = wrapped_label (check->message, FALSE);

  gtk_widget_set_valign (icon, GTK_ALIGN_START);
  gtk_widget_set_tooltip_text (icon, verdict_label (check->verdict));
  atk_object_set_name (gtk_widget_get_accessible (icon), verdict_label (check->verdict));
  atk_object_add_relationship (gtk_widget_get_accessible (message), ATK_RELATION_LABELLED_BY,
                               gtk_widget_get_accessible (icon));
  gtk_box_pack_start (GTK_BOX (row), icon, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (text), message, FALSE, FALSE, 0);
  if (check->advice != NULL)
    gtk_box_pack_start (GTK_BOX (text), wrapped_label (check->advice, TRUE), FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (row), text, TRUE, TRUE, 0);
  /* The check's id lets tests and themes find a row. */
  gtk_widget_set_name (row, check->id);
  return row;
}

static void
prepare_checks_page (OrielNewVmWizard *self)
{
  const OrielDualbootCandidate *c = selected_candidate (self);
  g_autofree char *title = NULL, *windows = NULL;
  GList *children = gtk_container_get_children (GTK_CONTAINER (self->checks_box));
  gboolean real_allowed;

  for (GList *l = children; l != NULL; l = l->next)
    gtk_widget_destroy (l->data);
  g_list_free (children);
  if (c == NULL)
    return;
  windows = oriel_dualboot_describe_windows (c->disk);
  title = g_strdup_printf (_("Safety checks for %s on %s"), windows, c->disk->device);
  gtk_label_set_text (self->checks_title, title);
  for (guint i = 0; i < c->checks->len; i++)
    gtk_box_pack_start (self->checks_box, check_row (c->checks->pdata[i]), FALSE, FALSE, 0);
  gtk_widget_show_all (GTK_WIDGET (self->checks_box));

  self->filling = TRUE;
  /* BitLocker needs a confirmation and keeps the VM in trial mode; a
   * check refusing real mode makes it unavailable. */
  gtk_widget_set_visible (GTK_WIDGET (self->bitlocker_check), oriel_dualboot_needs_confirmation (c));
  /* Confirmed for this installation only, each time its checks are shown. */
  gtk_toggle_button_set_active (self->bitlocker_check, FALSE);
  real_allowed = oriel_dualboot_real_allowed (c);
  if (!real_allowed)
    gtk_toggle_button_set_active (self->trial_radio, TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->real_radio), real_allowed);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->real_radio),
                               real_allowed ? NULL : _("A safety check above does not allow real mode."));
  self->filling = FALSE;
}

/* ---- resources, storage, finish ---- */

static void
prepare_resources_page (OrielNewVmWizard *self)
{
  g_autofree char *mem = NULL, *cpus = NULL;

  if (self->host_memory_mib > 0)
    {
      mem = g_strdup_printf (_("Up to %lu MiB available on the host"),
                             (unsigned long) self->host_memory_mib);
      gtk_adjustment_set_upper (gtk_spin_button_get_adjustment (self->memory_spin),
                                (double) self->host_memory_mib * 2);
    }
  if (self->host_cpus > 0)
    cpus = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Up to %u CPU available on the host",
                                         "Up to %u CPUs available on the host", self->host_cpus),
                            self->host_cpus);
  gtk_label_set_text (self->memory_hint, mem != NULL ? mem : "");
  gtk_label_set_text (self->vcpu_hint, cpus != NULL ? cpus : "");
}

static void
prepare_storage_page (OrielNewVmWizard *self)
{
  OrielSourceKind kind = source_kind (self);
  g_autofree char *text = NULL, *free_text = NULL;
  gboolean possible = kind == ORIEL_SOURCE_ISO || kind == ORIEL_SOURCE_KERNEL;

  gtk_widget_set_sensitive (GTK_WIDGET (self->storage_check), possible && self->pool_name != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->disk_spin),
                            possible && self->pool_name != NULL
                            && gtk_toggle_button_get_active (self->storage_check));
  if (!possible)
    text = g_strdup (kind == ORIEL_SOURCE_IMPORT
                     ? _("The imported disk image is used; no new disk is created.")
                     : kind == ORIEL_SOURCE_DUALBOOT
                     ? _("The disk Windows is installed on is used; no new disk is created.")
                     : _("The physical disk is used; no new disk is created."));
  else if (self->pool_name == NULL)
    text = g_strdup (_("This connection has no active storage pool, so no disk can be created."));
  else
    {
      free_text = g_format_size_full (self->pool_free_bytes, G_FORMAT_SIZE_IEC_UNITS);
      text = g_strdup_printf (_("The disk image is created in the storage pool “%s” (%s free)."),
                              self->pool_name, free_text);
    }
  gtk_label_set_text (self->storage_hint, text);
}

static char *
suggest_name (OrielNewVmWizard *self)
{
  const char *base = self->chosen_os != NULL
                     ? osinfo_product_get_short_id (OSINFO_PRODUCT (self->chosen_os)) : NULL;

  if (base == NULL)
    base = source_kind (self) == ORIEL_SOURCE_KERNEL ? "linux" : "vm";
  for (int i = 1; i < 1000; i++)
    {
      g_autofree char *name = i == 1 ? g_strdup (base) : g_strdup_printf ("%s-%d", base, i);
      if (oriel_connection_find_domain_by_name (self->conn, name) == NULL)
        return g_steal_pointer (&name);
    }
  return g_strdup (base);
}

static void
fill_networks (OrielNewVmWizard *self)
{
  gboolean have_default = FALSE;

  self->filling = TRUE;
  gtk_combo_box_text_remove_all (self->network_combo);
  for (guint i = 0; self->networks != NULL && self->networks[i] != NULL; i++)
    {
      const char *name = self->networks[i];
      g_autofree char *label = g_strdup_printf (_("Virtual network “%s”"), name);
      gtk_combo_box_text_append (self->network_combo, name, label);
      have_default |= g_str_equal (name, "default");
    }
  gtk_combo_box_text_append (self->network_combo, "", _("User-mode networking (NAT, no setup)"));
  if (have_default)
    gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->network_combo), "default");
  else
    gtk_combo_box_set_active (GTK_COMBO_BOX (self->network_combo), 0);
  self->filling = FALSE;
}

static void
fill_spec (OrielNewVmWizard *self, OrielVmSpec *spec)
{
  const char *type = self->conn_type;
  const char *net = gtk_combo_box_get_active_id (GTK_COMBO_BOX (self->network_combo));

  memset (spec, 0, sizeof *spec);
  spec->name = g_strdup (entry_text (self->name_entry));
  spec->domain_type = g_strdup (g_strcmp0 (type, "Test") == 0 ? "test" : "kvm");
  spec->source = source_kind (self);
  spec->iso_path = g_strdup (entry_text (self->iso_entry));
  spec->import_path = g_strdup (entry_text (self->import_entry));
  spec->kernel_path = g_strdup (entry_text (self->kernel_entry));
  spec->initrd_path = g_strdup (entry_text (self->initrd_entry));
  spec->cmdline = g_strdup (entry_text (self->cmdline_entry));
  spec->physical_device = selected_physical_device (self);
  if (spec->source == ORIEL_SOURCE_DUALBOOT && selected_candidate (self) != NULL)
    {
      const OrielDualbootCandidate *c = selected_candidate (self);

      g_free (spec->physical_device);
      spec->physical_device = g_strdup (c->disk->device);
      spec->dualboot_mode = g_strdup (dualboot_mode (self) == ORIEL_DUALBOOT_MODE_REAL ? "real" : "trial");
      spec->dualboot_partitions = oriel_dualboot_partitions (c->disk);
      spec->dualboot_confirm_bitlocker = oriel_dualboot_needs_confirmation (c)
                                         && gtk_toggle_button_get_active (self->bitlocker_check);
    }
  spec->os_id = self->chosen_os != NULL
                ? g_strdup (osinfo_entity_get_id (OSINFO_ENTITY (self->chosen_os))) : NULL;
  spec->network = net != NULL && *net ? g_strdup (net) : NULL;
  spec->hw = self->hw;
  spec->hw.memory_mib = (guint64) gtk_spin_button_get_value_as_int (self->memory_spin);
  spec->hw.vcpus = (guint) gtk_spin_button_get_value_as_int (self->vcpu_spin);
  spec->hw.disk_gib = (guint64) gtk_spin_button_get_value_as_int (self->disk_spin);
  apply_dualboot_platform (self, &spec->hw);
}

static void
prepare_finish_page (OrielNewVmWizard *self)
{
  OrielVmSpec spec;
  g_autoptr (GString) summary = g_string_new (NULL);
  static const char *const kinds[] = {
    N_("Install from ISO image"), N_("Import disk image"), N_("Direct kernel boot"), N_("Physical disk"),
    N_("Windows installed on this computer"),
  };
  const char *source_path;
  g_autofree char *mem = NULL;

  if (gtk_combo_box_get_active (GTK_COMBO_BOX (self->network_combo)) < 0)
    fill_networks (self);
  if (!self->name_edited || entry_text (self->name_entry) == NULL)
    {
      g_autofree char *name = suggest_name (self);
      self->filling = TRUE;
      gtk_entry_set_text (self->name_entry, name);
      self->filling = FALSE;
      self->name_edited = FALSE;
    }
  fill_spec (self, &spec);
  source_path = spec.source == ORIEL_SOURCE_ISO ? spec.iso_path
              : spec.source == ORIEL_SOURCE_IMPORT ? spec.import_path
              : spec.source == ORIEL_SOURCE_KERNEL ? spec.kernel_path : spec.physical_device;
  mem = g_format_size_full (spec.hw.memory_mib * 1024 * 1024, G_FORMAT_SIZE_IEC_UNITS);
  g_string_append_printf (summary, _("Connection: %s\n"), oriel_connection_get_uri (self->conn));
  g_string_append_printf (summary, _("Source: %s (%s)\n"), _(kinds[spec.source]),
                          source_path != NULL ? source_path : "");
  g_string_append_printf (summary, _("Operating system: %s\n"),
                          self->chosen_os != NULL ? osinfo_product_get_name (OSINFO_PRODUCT (self->chosen_os))
                                                  : _("Generic"));
  g_string_append_printf (summary, _("Memory: %s, virtual CPUs: %u\n"), mem, spec.hw.vcpus);
  if (creates_disk (self))
    g_string_append_printf (summary, _("New disk: %lu GiB in pool “%s”\n"),
                            (unsigned long) spec.hw.disk_gib, self->pool_name);
  else
    g_string_append (summary, _("New disk: none\n"));
  g_string_append_printf (summary, _("Firmware: %s; disk bus: %s; network card: %s\n"),
                          spec.hw.firmware == ORIEL_FIRMWARE_UEFI ? "UEFI" : "BIOS",
                          oriel_disk_bus_name (spec.hw.disk_bus), oriel_nic_model_name (spec.hw.nic_model));
  if (spec.hw.machine == ORIEL_MACHINE_Q35)
    g_string_append_printf (summary, _("Platform: Q35%s\n"), platform_text (&spec.hw));
  if (spec.source == ORIEL_SOURCE_DUALBOOT && spec.dualboot_mode != NULL)
    g_string_append (summary, g_str_equal (spec.dualboot_mode, "real")
                              ? _("Mode: real (Windows writes to its partitions)\n")
                              : _("Mode: trial (Windows’s writes are kept apart; the disk is not changed)\n"));
  gtk_label_set_text (self->summary_label, summary->str);
  oriel_vm_spec_clear (&spec);
}

static void
page_prepare (GtkAssistant *assistant, GtkWidget *page, OrielNewVmWizard *self)
{
  int index = gtk_assistant_get_current_page (assistant);

  switch (index)
    {
    case PAGE_CHECKS:
      prepare_checks_page (self);
      break;
    case PAGE_OS:
      prepare_os_page (self);
      break;
    case PAGE_RESOURCES:
      prepare_resources_page (self);
      break;
    case PAGE_STORAGE:
      prepare_storage_page (self);
      break;
    case PAGE_FINISH:
      prepare_finish_page (self);
      break;
    default:
      break;
    }
  validate_page (self, index);
}

static void
remember_iso (OrielNewVmWizard *self, const char *path)
{
  GSettings *settings = oriel_application_get_settings (self->app);
  g_auto (GStrv) recent = g_settings_get_strv (settings, "recent-isos");
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) updated = NULL;
  guint kept = 1;

  g_strv_builder_add (builder, path);
  for (guint i = 0; recent[i] && kept < MAX_RECENT_ISOS; i++)
    if (!g_str_equal (recent[i], path))
      {
        g_strv_builder_add (builder, recent[i]);
        kept++;
      }
  updated = g_strv_builder_end (builder);
  g_settings_set_strv (settings, "recent-isos", (const char *const *) updated);
}

/* Creates the new disk in the pool: qcow2 where the pool can make it
 * (sparse, snapshots), otherwise raw (Oriel's default pool makes raw
 * volumes only). *format_out receives the format used. Worker thread. */
static virStorageVolPtr
create_volume (virConnectPtr conn, const char *pool_name, const OrielVmSpec *spec,
               char **format_out, GError **error)
{
  static const struct { const char *format, *suffix; } kinds[] = {
    { "qcow2", ".qcow2" }, { "raw", ".img" },
  };
  virStoragePoolPtr pool = virStoragePoolLookupByName (conn, pool_name);
  virStorageVolPtr vol = NULL;
  g_autofree char *escaped = NULL;

  if (pool == NULL)
    {
      oriel_set_libvirt_error (error, _("The storage pool is gone"));
      return NULL;
    }
  escaped = g_markup_escape_text (spec->name, -1);
  for (guint i = 0; vol == NULL && i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *xml = g_strdup_printf ("<volume><name>%s%s</name>"
                                              "<capacity unit='GiB'>%lu</capacity>"
                                              "<target><format type='%s'/></target></volume>",
                                              escaped, kinds[i].suffix,
                                              (unsigned long) spec->hw.disk_gib, kinds[i].format);
      vol = virStorageVolCreateXML (pool, xml, 0);
      if (vol != NULL)
        *format_out = g_strdup (kinds[i].format);
    }
  if (vol == NULL)
    oriel_set_libvirt_error (error, _("Could not create the disk image"));
  virStoragePoolFree (pool);
  return vol;
}

/* Everything Finish does against libvirt, done in a worker. */
typedef struct {
  OrielVmSpec spec;
  virConnectPtr conn;
  OrielConnection *conn_owner;
  char *pool_name;       /* NULL: no new disk */
  gboolean customize;
  /* results */
  virDomainPtr dom;
  char *name;
  int state, reason;
  const char *summary;   /* static, translated; set when it failed */
  GError *error;
  GError *start_error;   /* defined, but did not start */
} CreateJob;

static void
create_job_free (gpointer data)
{
  CreateJob *job = data;

  oriel_vm_spec_clear (&job->spec);
  virConnectClose (job->conn);
  g_clear_object (&job->conn_owner);
  g_free (job->pool_name);
  if (job->dom != NULL)
    virDomainFree (job->dom);
  g_free (job->name);
  g_clear_error (&job->error);
  g_clear_error (&job->start_error);
  g_free (job);
}

static void
create_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CreateJob *job = task_data;
  virStorageVolPtr vol = NULL;
  g_autofree char *xml = NULL;

  if (job->pool_name != NULL)
    {
      vol = create_volume (job->conn, job->pool_name, &job->spec, &job->spec.new_disk_format,
                           &job->error);
      if (vol == NULL)
        {
          job->summary = _("Could not create the disk image");
          goto out;
        }
      job->spec.new_disk_path = virStorageVolGetPath (vol);
    }
  xml = oriel_domain_xml_build (&job->spec, &job->error);
  if (xml == NULL)
    {
      job->summary = _("The virtual machine cannot be created yet");
      goto out;
    }
  job->dom = virDomainDefineXML (job->conn, xml);
  if (job->dom == NULL)
    {
      oriel_set_libvirt_error (&job->error, _("libvirt rejected the configuration"));
      job->summary = _("Could not create the virtual machine");
      goto out;
    }
  /* The VM exists now; a failed start is reported, not rolled back. */
  if (!job->customize && virDomainCreate (job->dom) < 0)
    oriel_set_libvirt_error (&job->start_error,
                             _("The virtual machine was created but could not start"));
  job->name = g_strdup (virDomainGetName (job->dom));
  if (virDomainGetState (job->dom, &job->state, &job->reason, 0) < 0)
    job->state = -1, job->reason = 0;
out:
  if (vol != NULL && job->dom == NULL)
    virStorageVolDelete (vol, 0);
  if (vol != NULL)
    virStorageVolFree (vol);
  g_task_return_boolean (task, TRUE);
}

static void
set_creating (OrielNewVmWizard *self, gboolean creating)
{
  self->creating = creating;
  /* The window keeps drawing; its buttons wait for the result. */
  gtk_widget_set_sensitive (GTK_WIDGET (self), !creating);
  gtk_label_set_text (self->finish_error, creating ? _("Creating the virtual machine…") : "");
  gtk_widget_set_visible (GTK_WIDGET (self->finish_error), creating);
}

static void
create_done (GObject *source, GAsyncResult *result, gpointer data)
{
  OrielNewVmWizard *self = ORIEL_NEW_VM_WIZARD (source);
  CreateJob *job = g_task_get_task_data (G_TASK (result));
  GtkWindow *parent = self->gone ? NULL : GTK_WINDOW (self);
  OrielDomain *domain;

  if (!self->gone)
    set_creating (self, FALSE);
  if (job->dom == NULL)
    {
      oriel_error_dialog_show_gerror (parent, job->summary, job->error);
      return;
    }
  if (job->spec.source == ORIEL_SOURCE_ISO && job->spec.iso_path != NULL)
    remember_iso (self, job->spec.iso_path);
  if (job->start_error != NULL)
    oriel_error_dialog_show_gerror (self->gone ? NULL : gtk_window_get_transient_for (GTK_WINDOW (self)),
                                    _("Could not start the virtual machine"), job->start_error);
  /* The "defined" event may still be on its way: add it to the model now
   * so the console window finds it. */
  if (!oriel_connection_is_open (job->conn_owner))
    {
      if (!self->gone)
        gtk_widget_destroy (GTK_WIDGET (self));
      return;
    }
  domain = oriel_connection_track_domain (job->conn_owner, job->dom, job->name, job->state,
                                          job->reason);
  self->finished = TRUE;
  oriel_application_open_console (self->app, job->conn_owner, oriel_domain_get_uuid (domain),
                                  job->customize ? "details" : "display");
  if (!self->gone)
    gtk_widget_destroy (GTK_WIDGET (self));
}

static void
wizard_apply (GtkAssistant *assistant, OrielNewVmWizard *self)
{
  g_autoptr (GError) error = NULL;
  CreateJob *job;
  GTask *task;
  virConnectPtr conn = oriel_connection_get_virconn (self->conn);

  if (self->creating)
    return;
  job = g_new0 (CreateJob, 1);
  fill_spec (self, &job->spec);
  if (!oriel_vm_spec_validate (&job->spec, &error) || conn == NULL)
    {
      if (error == NULL)
        g_set_error (&error, ORIEL_LIBVIRT_ERROR, 0, _("Not connected to %s"),
                     oriel_connection_get_uri (self->conn));
      oriel_error_dialog_show_gerror (GTK_WINDOW (self),
                                      _("The virtual machine cannot be created yet"), error);
      oriel_vm_spec_clear (&job->spec);
      g_free (job);
      return;
    }
  virConnectRef (conn);
  job->conn = conn;
  job->conn_owner = g_object_ref (self->conn);
  job->pool_name = creates_disk (self) ? g_strdup (self->pool_name) : NULL;
  job->customize = gtk_toggle_button_get_active (self->customize_check);
  set_creating (self, TRUE);
  task = g_task_new (self, NULL, create_done, NULL);
  g_task_set_task_data (task, job, create_job_free);
  g_task_run_in_thread (task, create_thread);
  g_object_unref (task);
}

static void
wizard_close (GtkAssistant *assistant, OrielNewVmWizard *self)
{
  /* After a failed Finish the assistant stays so the user can fix things. */
  if (self->finished)
    gtk_widget_destroy (GTK_WIDGET (self));
}

static void
wizard_cancel (GtkAssistant *assistant, OrielNewVmWizard *self)
{
  gtk_widget_destroy (GTK_WIDGET (self));
}

/* ---- physical disks ---- */

static void
fill_physical_disks (OrielNewVmWizard *self)
{
  g_autoptr (GPtrArray) disks = oriel_scan_physical_disks ("/sys", "/dev");
  GtkTreeStore *store = gtk_tree_store_new (PD_N_COLS, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
                                            G_TYPE_STRING, G_TYPE_STRING, G_TYPE_BOOLEAN);
  GtkCellRenderer *cell;
  const char *titles[] = { N_("Device"), N_("Size"), N_("Contents"), N_("Notes") };

  for (guint i = 0; i < disks->len; i++)
    {
      OrielPhysicalDisk *disk = disks->pdata[i];
      GtkTreeIter parent, child;
      g_autofree char *size = g_format_size (disk->size_bytes);

      g_autofree char *contents = NULL;
      const char *note = "";

      /* A disk without partitions may carry a filesystem directly. */
      if (disk->partitions->len == 0 && disk->readable && disk->fs != ORIEL_FS_UNKNOWN)
        contents = g_strdup_printf ("%s%s%s", disk->model != NULL ? disk->model : "",
                                    disk->model != NULL ? " — " : "", oriel_fs_kind_label (disk->fs));
      else
        contents = g_strdup (disk->model != NULL ? disk->model : "");
      if (disk->partitions->len == 0 && !disk->readable)
        note = _("Not readable (needs administrator rights)");
      gtk_tree_store_insert_with_values (store, &parent, NULL, -1,
                                         PD_COL_NAME, disk->device, PD_COL_SIZE, size,
                                         PD_COL_FS, contents,
                                         PD_COL_NOTE, note, PD_COL_DEVICE, disk->device,
                                         PD_COL_IS_DISK, TRUE, -1);
      for (guint j = 0; j < disk->partitions->len; j++)
        {
          OrielPartitionInfo *p = disk->partitions->pdata[j];
          g_autofree char *psize = g_format_size (p->size_bytes);
          const char *note = !p->readable ? _("Not readable (needs administrator rights)")
                             : p->fs == ORIEL_FS_BITLOCKER ? _("Windows installation (BitLocker)")
                             : p->fs == ORIEL_FS_NTFS && p->size_bytes >= 16ull << 30
                               ? _("Possible Windows installation") : "";

          gtk_tree_store_insert_with_values (store, &child, &parent, -1,
                                             PD_COL_NAME, p->device, PD_COL_SIZE, psize,
                                             PD_COL_FS, p->readable ? oriel_fs_kind_label (p->fs) : "",
                                             PD_COL_NOTE, note, PD_COL_DEVICE, p->device,
                                             PD_COL_IS_DISK, FALSE, -1);
        }
    }
  gtk_tree_view_set_model (self->physical_view, GTK_TREE_MODEL (store));
  g_object_unref (store);
  for (guint c = 0; c < G_N_ELEMENTS (titles); c++)
    {
      cell = gtk_cell_renderer_text_new ();
      gtk_tree_view_insert_column_with_attributes (self->physical_view, -1, _(titles[c]), cell,
                                                   "text", c, NULL);
    }
  gtk_tree_view_expand_all (self->physical_view);
  g_signal_connect_swapped (gtk_tree_view_get_selection (self->physical_view), "changed",
                            G_CALLBACK (validate_page), self);
}

/* ---- the Windows installed on this computer ---- */

typedef struct {
  GPtrArray *candidates;
  guint unreadable;
  gboolean secure_boot;
} WindowsScan;

static void
windows_scan_free (gpointer data)
{
  WindowsScan *scan = data;

  g_clear_pointer (&scan->candidates, g_ptr_array_unref);
  g_free (scan);
}

static void
windows_scan_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  WindowsScan *scan = task_data;

  /* Reads every disk's partition table and the registry hives through
   * ntfs-3g: seconds on a busy disk, never on the GTK thread. */
  scan->candidates = oriel_dualboot_scan ("/sys", &scan->unreadable);
  scan->secure_boot = oriel_dualboot_host_secure_boot ("/sys/firmware/efi/efivars");
  g_task_return_boolean (task, TRUE);
}

static GtkWidget *
windows_row (const OrielDualbootCandidate *c)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  g_autofree char *windows = oriel_dualboot_describe_windows (c->disk);
  g_autofree char *disk = oriel_dualboot_describe_disk (c->disk);
  g_autofree char *parts = oriel_dualboot_describe_partitions (c->disk);
  g_autofree char *controller = oriel_dualboot_describe_controller (c);
  g_autofree char *boot = NULL, *markup = NULL;
  const char *firmware = oriel_dualboot_firmware_label (c->disk);
  GtkWidget *title;

  boot = firmware != NULL ? g_strdup_printf (_("Starts with %s"), firmware)
                          : g_strdup (_("No way to start Windows was found on this disk"));
  markup = g_markup_printf_escaped ("<b>%s</b>", windows);
  title = gtk_label_new (NULL);
  gtk_label_set_markup (GTK_LABEL (title), markup);
  gtk_label_set_xalign (GTK_LABEL (title), 0.0);
  gtk_label_set_line_wrap (GTK_LABEL (title), TRUE);
  gtk_box_pack_start (GTK_BOX (box), title, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), wrapped_label (disk, FALSE), FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), wrapped_label (boot, FALSE), FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), wrapped_label (parts, TRUE), FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), wrapped_label (controller, TRUE), FALSE, FALSE, 0);
  g_object_set (box, "margin", 8, NULL);
  atk_object_set_name (gtk_widget_get_accessible (box), windows);
  return box;
}

static void
windows_scan_done (GObject *source, GAsyncResult *result, gpointer data)
{
  OrielNewVmWizard *self = ORIEL_NEW_VM_WIZARD (source);
  WindowsScan *scan = g_task_get_task_data (G_TASK (result));
  g_autofree char *status = NULL;

  if (self->gone)
    return;
  self->scanning = FALSE;
  gtk_spinner_stop (self->windows_spinner);
  gtk_widget_hide (GTK_WIDGET (self->windows_spinner));
  gtk_widget_set_sensitive (self->windows_rescan, TRUE);
  self->candidates = g_steal_pointer (&scan->candidates);
  self->host_secure_boot = scan->secure_boot;
  for (guint i = 0; i < self->candidates->len; i++)
    {
      GtkWidget *row = gtk_list_box_row_new ();
      gtk_container_add (GTK_CONTAINER (row), windows_row (self->candidates->pdata[i]));
      gtk_widget_show_all (row);
      gtk_list_box_insert (self->windows_list, row, -1);
    }
  if (self->candidates->len == 0)
    status = g_strdup (_("No Windows installation was found on this computer’s disks."));
  else
    status = g_strdup (g_dngettext (GETTEXT_PACKAGE, "Windows was found on this disk. Choose it to continue.",
                                    "Windows was found on these disks. Choose one to continue.",
                                    self->candidates->len));
  if (scan->unreadable > 0)
    {
      g_autofree char *more = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                            "%s %u disk could not be read (administrator rights are needed).",
                                                            "%s %u disks could not be read (administrator rights are needed).",
                                                            scan->unreadable), status, scan->unreadable);
      g_free (status);
      status = g_steal_pointer (&more);
    }
  gtk_label_set_text (self->windows_status, status);
  if (self->candidates->len == 1)
    gtk_list_box_select_row (self->windows_list, gtk_list_box_get_row_at_index (self->windows_list, 0));
  if (gtk_assistant_get_current_page (GTK_ASSISTANT (self)) == PAGE_SOURCE)
    validate_page (self, PAGE_SOURCE);
}

static void
windows_selection_changed (GtkListBox *list, GtkListBoxRow *row, OrielNewVmWizard *self)
{
  validate_page (self, PAGE_SOURCE);
}

static void
scan_windows (OrielNewVmWizard *self)
{
  GTask *task;

  if (!connection_is_local (self))
    {
      gtk_widget_hide (GTK_WIDGET (self->windows_spinner));
      gtk_label_set_text (self->windows_status,
                          _("Windows on this computer’s disks can be used only with a connection to this computer."));
      return;
    }
  /* What was found before may have changed (Windows shut down fully, a
   * partition unmounted): the list starts over. */
  g_clear_pointer (&self->candidates, g_ptr_array_unref);
  {
    GList *rows = gtk_container_get_children (GTK_CONTAINER (self->windows_list));
    for (GList *l = rows; l != NULL; l = l->next)
      gtk_widget_destroy (l->data);
    g_list_free (rows);
  }
  gtk_widget_set_sensitive (self->windows_rescan, FALSE);
  gtk_widget_show (GTK_WIDGET (self->windows_spinner));
  self->scanning = TRUE;
  gtk_spinner_start (self->windows_spinner);
  gtk_label_set_text (self->windows_status, _("Looking for Windows installations…"));
  task = g_task_new (self, NULL, windows_scan_done, NULL);
  g_task_set_task_data (task, g_new0 (WindowsScan, 1), windows_scan_free);
  g_task_run_in_thread (task, windows_scan_thread);
  g_object_unref (task);
  validate_page (self, PAGE_SOURCE);
}

static void
windows_rescan_clicked (GtkButton *button, OrielNewVmWizard *self)
{
  if (!self->scanning)
    scan_windows (self);
}

/* The checks page is only on the way of the Windows installed here. */
static gint
forward_page (gint current, gpointer data)
{
  OrielNewVmWizard *self = data;
  gint next = current + 1;

  if (current == PAGE_SOURCE && source_kind (self) != ORIEL_SOURCE_DUALBOOT)
    next = PAGE_OS;
  return next < gtk_assistant_get_n_pages (GTK_ASSISTANT (self)) ? next : -1;
}

/* ---- setup ---- */

/* What the wizard needs to know about the host, read once in a worker. */
typedef struct {
  virConnectPtr conn;
  guint64 memory_mib;
  guint cpus;
  char *pool_name;
  guint64 pool_free_bytes;
  char *type;
  GStrvBuilder *networks;
} HostFacts;

static void
host_facts_free (gpointer data)
{
  HostFacts *facts = data;

  virConnectClose (facts->conn);
  g_free (facts->pool_name);
  g_free (facts->type);
  g_strv_builder_unref (facts->networks);
  g_free (facts);
}

static void
host_facts_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  HostFacts *facts = task_data;
  virNodeInfo node;
  virStoragePoolPtr pool;
  virStoragePoolInfo pinfo;
  virNetworkPtr *nets = NULL;
  const char *type = virConnectGetType (facts->conn);
  int n;

  facts->type = g_strdup (type);
  if (virNodeGetInfo (facts->conn, &node) == 0)
    {
      facts->memory_mib = node.memory / 1024;
      facts->cpus = node.cpus;
    }
  pool = virStoragePoolLookupByName (facts->conn, "default");
  if (pool == NULL)
    {
      virStoragePoolPtr *pools = NULL;
      n = virConnectListAllStoragePools (facts->conn, &pools, VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE);
      for (int i = 0; i < n; i++)
        {
          if (pool == NULL)
            pool = pools[i];
          else
            virStoragePoolFree (pools[i]);
        }
      free (pools);
    }
  if (pool != NULL)
    {
      facts->pool_name = g_strdup (virStoragePoolGetName (pool));
      if (virStoragePoolGetInfo (pool, &pinfo) == 0)
        facts->pool_free_bytes = pinfo.available;
      virStoragePoolFree (pool);
    }
  n = virConnectListAllNetworks (facts->conn, &nets, VIR_CONNECT_LIST_NETWORKS_ACTIVE);
  for (int i = 0; i < n; i++)
    {
      g_strv_builder_add (facts->networks, virNetworkGetName (nets[i]));
      virNetworkFree (nets[i]);
    }
  free (nets);
  g_task_return_boolean (task, TRUE);
}

static void
host_facts_done (GObject *source, GAsyncResult *result, gpointer data)
{
  OrielNewVmWizard *self = ORIEL_NEW_VM_WIZARD (source);
  HostFacts *facts = g_task_get_task_data (G_TASK (result));
  int page;

  if (self->gone)
    return;
  self->host_memory_mib = facts->memory_mib;
  self->host_cpus = facts->cpus;
  self->pool_name = g_steal_pointer (&facts->pool_name);
  self->pool_free_bytes = facts->pool_free_bytes;
  self->conn_type = g_steal_pointer (&facts->type);
  self->networks = g_strv_builder_end (facts->networks);
  /* Pages shown before the facts came in are brought up to date. */
  page = gtk_assistant_get_current_page (GTK_ASSISTANT (self));
  if (page == PAGE_RESOURCES)
    prepare_resources_page (self);
  else if (page == PAGE_STORAGE)
    prepare_storage_page (self);
  else if (page == PAGE_FINISH)
    {
      fill_networks (self);
      prepare_finish_page (self);
    }
  if (page >= 0)
    validate_page (self, page);
}

static void
read_host_facts (OrielNewVmWizard *self)
{
  virConnectPtr conn = oriel_connection_get_virconn (self->conn);
  HostFacts *facts;
  GTask *task;

  if (conn == NULL)
    return;
  facts = g_new0 (HostFacts, 1);
  virConnectRef (conn);
  facts->conn = conn;
  facts->networks = g_strv_builder_new ();
  task = g_task_new (self, NULL, host_facts_done, NULL);
  g_task_set_task_data (task, facts, host_facts_free);
  g_task_run_in_thread (task, host_facts_thread);
  g_object_unref (task);
}

static void
relabel_apply (GtkWidget *widget, gpointer data)
{
  if (GTK_IS_BUTTON (widget)
      && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), g_dgettext ("gtk30", "_Apply")) == 0)
    gtk_button_set_label (GTK_BUTTON (widget), _("_Finish"));
  else if (GTK_IS_CONTAINER (widget))
    gtk_container_forall (GTK_CONTAINER (widget), relabel_apply, data);
}

static void
fill_recent_isos (OrielNewVmWizard *self)
{
  g_auto (GStrv) recent = g_settings_get_strv (oriel_application_get_settings (self->app), "recent-isos");

  for (guint i = 0; recent[i]; i++)
    gtk_combo_box_text_append_text (self->recent_combo, recent[i]);
  gtk_widget_set_sensitive (GTK_WIDGET (self->recent_combo), recent[0] != NULL);
}

static void
oriel_new_vm_wizard_dispose (GObject *object)
{
  OrielNewVmWizard *self = ORIEL_NEW_VM_WIZARD (object);

  self->gone = TRUE;
  g_clear_object (&self->conn);
  g_clear_object (&self->os_filter);
  g_clear_object (&self->os_store);
  g_clear_object (&self->os_db);
  g_clear_object (&self->detected_os);
  g_clear_object (&self->chosen_os);
  G_OBJECT_CLASS (oriel_new_vm_wizard_parent_class)->dispose (object);
}

static void
oriel_new_vm_wizard_finalize (GObject *object)
{
  OrielNewVmWizard *self = ORIEL_NEW_VM_WIZARD (object);

  g_free (self->detected_for_iso);
  g_free (self->pool_name);
  g_free (self->conn_type);
  g_strfreev (self->networks);
  g_clear_pointer (&self->candidates, g_ptr_array_unref);
  G_OBJECT_CLASS (oriel_new_vm_wizard_parent_class)->finalize (object);
}

#define BIND(name) gtk_widget_class_bind_template_child (widget_class, OrielNewVmWizard, name)

static void
oriel_new_vm_wizard_class_init (OrielNewVmWizardClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = oriel_new_vm_wizard_dispose;
  G_OBJECT_CLASS (klass)->finalize = oriel_new_vm_wizard_finalize;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/oriel/Oriel/new-vm-wizard.ui");
  BIND (source_page); BIND (checks_page); BIND (os_page); BIND (resources_page); BIND (storage_page); BIND (finish_page);
  BIND (iso_radio); BIND (import_radio); BIND (kernel_radio); BIND (physical_radio); BIND (windows_radio);
  BIND (windows_spinner); BIND (windows_status); BIND (windows_list); BIND (windows_rescan);
  BIND (checks_title); BIND (checks_error); BIND (checks_box);
  BIND (bitlocker_check); BIND (trial_radio); BIND (real_radio);
  BIND (source_stack);
  BIND (iso_entry); BIND (import_entry); BIND (kernel_entry); BIND (initrd_entry); BIND (cmdline_entry);
  BIND (iso_browse); BIND (import_browse); BIND (kernel_browse); BIND (initrd_browse);
  BIND (recent_combo); BIND (physical_view); BIND (source_error);
  BIND (os_detected); BIND (os_selected); BIND (os_search); BIND (os_view);
  BIND (memory_spin); BIND (vcpu_spin); BIND (disk_spin);
  BIND (memory_hint); BIND (vcpu_hint); BIND (resources_error);
  BIND (storage_check); BIND (storage_hint); BIND (storage_error);
  BIND (name_entry); BIND (network_combo); BIND (customize_check);
  BIND (summary_label); BIND (finish_error);
  gtk_widget_class_bind_template_callback (widget_class, page_prepare);
  gtk_widget_class_bind_template_callback (widget_class, wizard_apply);
  gtk_widget_class_bind_template_callback (widget_class, wizard_close);
  gtk_widget_class_bind_template_callback (widget_class, wizard_cancel);
  gtk_widget_class_bind_template_callback (widget_class, field_changed);
  gtk_widget_class_bind_template_callback (widget_class, source_kind_toggled);
  gtk_widget_class_bind_template_callback (widget_class, recent_changed);
  gtk_widget_class_bind_template_callback (widget_class, browse_clicked);
  gtk_widget_class_bind_template_callback (widget_class, os_search_changed);
  gtk_widget_class_bind_template_callback (widget_class, windows_rescan_clicked);
}

static void
oriel_new_vm_wizard_init (OrielNewVmWizard *self)
{
  GtkCellRenderer *cell;

  gtk_widget_init_template (GTK_WIDGET (self));
  cell = gtk_cell_renderer_text_new ();
  gtk_tree_view_insert_column_with_attributes (self->os_view, -1, _("Operating system"), cell,
                                               "text", OS_COL_NAME, NULL);
  g_signal_connect (gtk_tree_view_get_selection (self->os_view), "changed",
                    G_CALLBACK (os_selection_changed), self);
  gtk_container_forall (GTK_CONTAINER (self), relabel_apply, NULL);
  gtk_assistant_set_forward_page_func (GTK_ASSISTANT (self), forward_page, self, NULL);
  g_signal_connect (self->windows_list, "row-selected", G_CALLBACK (windows_selection_changed), self);
  oriel_os_defaults_for_family (ORIEL_OS_FAMILY_OTHER, &self->hw);
}

GtkWidget *
oriel_new_vm_wizard_new (OrielApplication *app, OrielConnection *conn)
{
  OrielNewVmWizard *self = g_object_new (ORIEL_TYPE_NEW_VM_WIZARD, NULL);

  self->app = app;
  self->conn = g_object_ref (conn);
  read_host_facts (self);
  fill_recent_isos (self);
  fill_physical_disks (self);
  scan_windows (self);
  validate_page (self, PAGE_SOURCE);
  return GTK_WIDGET (self);
}
