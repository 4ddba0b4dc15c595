/* Images for the storage tests: a disk whose every byte is known and an
 * ISO-like file of 2048-byte blocks. */
#pragma once

#include <stdint.h>
#include <stddef.h>

/* Byte i of 512-byte sector s of a disk image. */
static inline uint8_t disk_byte(uint64_t s, unsigned i)
{
    return (uint8_t)(s * 7 + i * 13 + (i >> 8));
}

/* Byte i of 2048-byte block b of a CD image. */
static inline uint8_t cd_byte(uint64_t b, unsigned i)
{
    return (uint8_t)(b * 3 + i * 5 + 1);
}

char *storage_make_disk(unsigned sectors);
char *storage_make_iso(unsigned blocks);
void storage_read_file(const char *path, uint64_t offset, void *buf, size_t len);
void storage_remove(char *path);   /* unlink and free */
