/* cmd_verify.c - `torpor verify IMAGE`: check every structure and checksum of
 * an image, memory chunks included, without restoring it. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "exitcodes.h"
#include "image.h"

static void verify_usage(FILE *f)
{
	fprintf(f, "usage: torpor verify IMAGE\n"
		"  Checks the header, every section, the memory index and the checksum\n"
		"  of every memory chunk. Exit 0 if the image is sound, 5 if not.\n");
}

int cmd_verify(int argc, char **argv)
{
	struct image_error err = { 0 };
	struct image *img;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		verify_usage(stdout);
		return EXIT_OK;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "torpor verify: %s (see 'torpor verify --help')\n",
			argc < 2 ? "IMAGE is required" : argv[1][0] == '-' ?
			"unknown option" : "exactly one IMAGE expected");
		return EXIT_USAGE;
	}
	if (image_open(&img, argv[1], 1, &err) < 0) {
		fprintf(stderr, "torpor verify: %s: %s: %s\n", argv[1],
			image_strerror(err.code), err.msg);
		return EXIT_IMAGE;
	}
	image_close(img);
	printf("%s: ok\n", argv[1]);
	return EXIT_OK;
}
