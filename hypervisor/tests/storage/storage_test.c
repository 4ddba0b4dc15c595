#include "storage_test.h"

#include <fcntl.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

static char *make_file(const char *tmpl, unsigned blocks, unsigned bsize,
                       uint8_t (*byte)(uint64_t, unsigned))
{
    char *path = g_build_filename(g_get_tmp_dir(), tmpl, NULL);
    int fd = g_mkstemp(path);
    g_assert_cmpint(fd, >=, 0);
    uint8_t *buf = g_malloc(bsize);
    for (unsigned b = 0; b < blocks; b++) {
        for (unsigned i = 0; i < bsize; i++)
            buf[i] = byte(b, i);
        g_assert_cmpint(write(fd, buf, bsize), ==, (ssize_t)bsize);
    }
    g_free(buf);
    close(fd);
    return path;
}

char *storage_make_disk(unsigned sectors)
{
    return make_file("oriel-ata-XXXXXX", sectors, 512, disk_byte);
}

char *storage_make_iso(unsigned blocks)
{
    return make_file("oriel-iso-XXXXXX", blocks, 2048, cd_byte);
}

void storage_read_file(const char *path, uint64_t offset, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, buf, len, (off_t)offset), ==, (ssize_t)len);
    close(fd);
}

void storage_remove(char *path)
{
    g_unlink(path);
    g_free(path);
}
