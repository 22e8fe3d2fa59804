/* fuzz_image_fields.c - libFuzzer harness that gets past the checksums: the
 * input is an image whose checksums (memory chunks, sections, section table,
 * header) are recomputed before it is read, so mutated lengths, counts and
 * values reach the section decoders and the consistency checks instead of
 * stopping at the first checksum. Run with scripts/fuzz.sh. */
#include <string.h>

#include "checksum.h"
#include "fuzz_common.h"
#include "image_format.h"
#include "le.h"

/* Whether [off, off+len) lies inside a buffer of size bytes. */
static int inside(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

/* Rewrites the chunk checksums in a memory index payload p of len bytes. */
static void fix_chunks(uint8_t *f, size_t size, uint8_t *p, uint64_t len)
{
	uint32_t n;

	if (len < SEC_MEM_INDEX_FIXED)
		return;
	n = le_get32(p + MIX_NCHUNKS);
	for (uint64_t i = 0; i < n && SEC_MEM_INDEX_FIXED + (i + 1) * SEC_MEM_INDEX_CHUNK <= len; i++) {
		uint8_t *c = p + SEC_MEM_INDEX_FIXED + i * SEC_MEM_INDEX_CHUNK;
		uint64_t off = le_get64(c + CHK_OFFSET), clen = le_get64(c + CHK_LENGTH);

		/* A chunk without a record has checksum 0, not XXH3 of nothing. */
		if (inside(off, clen, size))
			le_put64(c + CHK_CHECKSUM, clen ? checksum64(f + off, clen) : 0);
	}
}

/* Recomputes every checksum the layout lets it find, innermost first. */
static void fix_checksums(uint8_t *f, size_t size)
{
	uint64_t table, count;
	uint8_t *t;

	if (size < IMAGE_HDR_SIZE)
		return;
	table = le_get64(f + HDR_TABLE_OFFSET);
	count = le_get32(f + HDR_SECTION_COUNT);
	if (count <= IMAGE_MAX_SECTIONS &&
	    inside(table, count * IMAGE_ENTRY_SIZE + IMAGE_TRAILER_SIZE, size)) {
		t = f + table;
		for (uint64_t i = 0; i < count; i++) {
			uint8_t *e = t + i * IMAGE_ENTRY_SIZE;
			uint64_t off = le_get64(e + ENT_OFFSET), len = le_get64(e + ENT_LENGTH);

			if (!inside(off, len, size))
				continue;
			if (le_get16(e + ENT_TYPE) == SEC_MEM_INDEX)
				fix_chunks(f, size, f + off, len);
			le_put64(e + ENT_CHECKSUM, checksum64(f + off, len));
		}
		le_put64(t + count * IMAGE_ENTRY_SIZE + TRL_TABLE_CHECKSUM,
			 checksum64(t, count * IMAGE_ENTRY_SIZE));
	}
	le_put64(f + HDR_CHECKSUM, checksum64(f, HDR_CHECKSUM));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *f = malloc(size + 1);
	char path[64];

	if (!f)
		abort();
	memcpy(f, data, size);
	fix_checksums(f, size);
	fuzz_input(f, size, path, sizeof(path));
	free(f);
	fuzz_read(path);
	return 0;
}
