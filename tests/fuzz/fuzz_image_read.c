/* fuzz_image_read.c - libFuzzer harness for the image reader: the input is a
 * whole image file; it is opened with every chunk checked, its state read
 * and its memory loaded, as `torpor restore` would. The reader must refuse
 * bad input with an error, never crash, leak or read out of bounds.
 * Run with scripts/fuzz.sh. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];

	fuzz_input(data, size, path, sizeof(path));
	fuzz_read(path);
	return 0;
}
