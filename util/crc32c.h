/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum a checkpoint manifest
 * records for each rank's image: computed by the engine's client after
 * writing the image, checked again by the launcher before a restart.
 */
#ifndef DM_CRC32C_H
#define DM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue crc (0 to start) over len bytes at buf.  Thread-safe.
 * Hidden: each object keeps its own copy, and libmpi_abi does not
 * export it. */
__attribute__((visibility("hidden")))
uint32_t dm_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
